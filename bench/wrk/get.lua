-- GET the URL given on wrk's command line with the headers given there (-H); the summary line at the end.
dofile(os.getenv("WRK_SCRIPTS") .. "/summary.lua")
