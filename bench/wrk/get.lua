-- GET the URL given on wrk's command line with the headers given there (-H); the summary line at the end.
-- With arguments DAYS FIRST after `--` (FIRST a date YYYY-MM-DD), each request asks `as_of` another
-- day of the DAYS days from FIRST in turn: more distinct requests than the server remembers answers for (api/answer_memo.py), so
-- every answer is made from its rows, none served from the memo.
dofile(os.getenv("WRK_SCRIPTS") .. "/summary.lua")

local days, n, first = 0, 0, 0

function init(args)
  days = tonumber(args[1] or "0")
  if days > 0 then
    local y, m, d = string.match(args[2], "^(%d+)-(%d+)-(%d+)$")
    first = os.time({year = tonumber(y), month = tonumber(m), day = tonumber(d), hour = 12})
  end
end

function request()
  if days == 0 then
    return wrk.format(nil)
  end
  n = n + 1
  local t = first + (n % days) * 86400
  local sep = string.find(wrk.path, "?", 1, true) and "&" or "?"
  return wrk.format(nil, wrk.path .. sep .. "as_of=" .. os.date("!%Y-%m-%d", t))
end
