"""Examples of what the routes that are not commands answer, for the OpenAPI document: the read
routes' answers on the demo's books (`coopledger demo`), the reports as CSV, a feed stream, the
webhook admin's answers and a verification. Each route declares its example with `read(name)` or
`report(name)`; tests/api/test_openapi_examples.py checks each example has the keys and JSON types
of the live answer, so a changed read shows here. Command examples are api/examples.py's.
"""

from __future__ import annotations

from typing import Any

import orjson

from api.examples import DEMO_COOP, ok

# Answers of the demo's books (`coopledger demo`), lists cut to a few rows.

_COOP = {"coop": DEMO_COOP}
_TALLY_COLLEGE = {"code": "entreprises", "for": 2, "against": 0, "abstain": 0, "blank": 0, "cast": 2, "share_for": "1",
                  "weight_used": "100/3", "contribution": "1/3", "carried": True}
_MEMBER = {**_COOP, "member_id": "MED-01", "name": "Le Petit Écho du Littoral", "kind": "organisation", "college": "medias",
           "status": "active", "admitted_on": "2025-01-20", "left_on": None, "shares": 0, "year": 2025,
           "fee_called_eur": "300.00", "fee_paid_eur": "300.00", "in_good_standing": True, "fully_paid_on": "2025-07-14"}

READS: dict[str, Any] = {
    "coop_summary": {
        **_COOP, "name": "Cluster Numérique Sud", "legal_form": "association", "siren": "912345675", "founded_on": "2025-01-15",
        "fiscal_year_start_month": 1, "share_value_eur": None,
        "colleges": [{"code": "medias", "name": "Médias", "weight": "40"},
                     {"code": "entreprises", "name": "Entreprises associées", "weight": "20"}],
        "fee_schedule": [{"min_headcount": 1, "max_headcount": 9, "amount_eur": "100.00"},
                         {"min_headcount": 250, "max_headcount": None, "amount_eur": "1500.00"}],
        "members": 12, "active_members": 11, "journal_entries": 177, "sealed_by_federation": None},
    "trial_balance": {**_COOP, "as_of": "2025-12-31", "accounts": [
        {"account": "411", "label_fr": "Usagers, adhérents", "label_en": "Customers, members", "unit": "EUR",
         "debit": "10883.85", "credit": "10182.45", "balance": "701.40"},
        {"account": "512", "label_fr": "Banque", "label_en": "Bank", "unit": "EUR", "debit": "90182.45",
         "credit": "50651.60", "balance": "39530.85"}],
        "totals": [{"unit": "CREDIT", "debit": "64.89", "credit": "64.89"},
                   {"unit": "EUR", "debit": "543567.90", "credit": "543567.90"}]},
    "balance": {**_COOP, "account": "411", "party": "MED-01", "unit": "EUR", "as_of": "2025-12-31", "balance": "0.00"},
    "statement": {**_COOP, "account": "411", "party": "MED-01", "unit": "EUR", "as_of": None, "lines": [
        {"effective_date": "2025-02-01", "number": 1, "label": "Cotisation 2025 – MED-01", "party": "MED-01",
         "unit": "EUR", "debit": "300.00", "credit": "0.00", "balance": "300.00"},
        {"effective_date": "2025-07-14", "number": 17, "label": "Règlement cotisation 2025 – MED-01",
         "party": "MED-01", "unit": "EUR", "debit": "0.00", "credit": "300.00", "balance": "0.00"}], "total_lines": 4,
        "closing_balance": "0.00"},
    "journal": {**_COOP, "entries": [
        {"number": 1, "kind": "FeeCalled", "effective_date": "2025-02-01", "recorded_at": "2025-02-01T09:14:03.299742+00:00",
         "label": "Cotisation 2025 – MED-01", "actor": "key:3f9a0c2b7d41", "idempotency_key": "demo-0014",
         "reverses": None, "reversed_by": None,
         "chain_hash": "435bfe9270ff79b180a4237bf3ad988edda932c011a4c6dba1472b1dceef7e24", "position": 27,
         "postings": [{"account": "411", "party": "MED-01", "unit": "EUR", "amount": "300.00"},
                      {"account": "7561", "party": None, "unit": "EUR", "amount": "-300.00"}]}], "next_after": 1,
        "more": False},
    "members": {**_COOP, "year": 2025, "members": [_MEMBER]},
    "standing": {k: _MEMBER[k] for k in ("coop", "member_id", "college", "status", "year", "fee_called_eur",
                                          "fee_paid_eur", "in_good_standing", "fully_paid_on")},
    "governance": {
        **_COOP, "as_of": "2025-12-31", "legal_form": "association", "statutes_since": "2025-01-15",
        "policy": {"effective_date": "2025-01-15", "require_fee_paid": True, "min_shares": 0,
         "empty_college_policy": "redistribute"},
        "fee_year": 2025, "college_rules": {}, "colleges": [
            {"code": "medias", "name": "Médias", "statutory_weight": "40", "members": 5, "eligible_members": 5,
             "effective_weight": "40", "member_weight": "8"},
            {"code": "entreprises", "name": "Entreprises associées", "statutory_weight": "20", "members": 3,
             "eligible_members": 3, "effective_weight": "20", "member_weight": "20/3"}],
        "unassigned_weight": "0", "flags": [],
        "voters": [{"member_id": "ENT-01", "name": "Nuage Occitan SAS", "college": "entreprises", "vote_weight": "20/3"},
                   {"member_id": "MED-01", "name": "Le Petit Écho du Littoral", "college": "medias", "vote_weight": "8"}],
        "voters_total_weight": "100", "note": None},
    "explanation": {
        **_COOP, "as_of": "2025-12-31", "name": "Le Petit Écho du Littoral", "member_id": "MED-01", "college": "medias",
        "eligible": True, "reasons": [
            {"rule": "admitted", "ok": True, "detail": "admitted on 2025-01-20",
             "text": {"fr": "admission : admis le 20 janv. 2025", "en": "admitted: admitted on 20 Jan 2025"}},
            {"rule": "fee_paid", "ok": True, "detail": "2025 fee: 300.00 of 300.00 EUR paid by 2025-12-31",
             "text": {"fr": "cotisation payée : cotisation 2025 : 300,00\u00a0€ payés sur 300,00\u00a0€ au 31 déc. 2025",
                      "en": "fee paid: 2025 fee: €300.00 of €300.00 paid by 31 Dec 2025"}}]},
    "tally": {
        **_COOP, "resolution_id": "AG-2026-01", "title": "Approbation des comptes 2025", "assembly": "ordinary",
        "vote_date": "2026-06-30", "threshold": "1/2", "strict": True, "adopted": True, "result": "2/3",
         "result_percent": "66.67",
        "carried_by": ["entreprises"], "head": "273:25da11129a29ed14d0ef3bb503fa3bc1feb2381496fff284e65532932d9ff87e",
        "colleges": [_TALLY_COLLEGE]},
    "certified": {**_COOP, "on": "2025-12-31", "certified": [
        {**_COOP, "certification_id": "CERT-2025-001", "member_id": "ENT-01", "granted_on": "2025-03-15",
         "expires_on": "2027-03-15", "valid_until": "2027-03-14", "revoked_on": None, "revocation_reason": None,
         "ends_on": "2027-03-15", "renewals": 0, "billed_eur": "450.00", "paid_eur": "450.00", "due_eur": "0.00"}]},
    "calls": {**_COOP, "calls": [
        {**_COOP, "call_id": "AAP-MEDIAS-2025", "title": "Appel à projets Médias de proximité 2025",
         "source": "subsidy:REG-OCC-AAP25", "status": "open", "envelope_eur": "100000.00", "min_award_eur": "5000.00",
         "max_award_eur": "10000.00", "max_laureates": 20, "members_only": False, "opened_on": "2025-04-01", "closed_on": None,
         "applications": 14, "laureates": 12, "awarded_eur": "93000.00", "paid_eur": "75750.00", "remaining_eur": "7000.00",
         "outstanding_eur": "17250.00"}]},
    "fund": {**_COOP, "as_of": None, "contributions_called_eur": "46749.64", "received_eur": "46749.64",
             "balance_eur": "27249.64", "committed_eur": "0.00", "available_eur": "27249.64", "reserved_eur": "0.00",
             "awarded_eur": "19500.00", "paid_eur": "19500.00", "unspent_eur": "27249.64"},
    "subsidies": {**_COOP, "subsidies": [
        {**_COOP, "subsidy_id": "REG-OCC-AAP25", "funder": "Région Occitanie",
         "purpose": "Appel à projets Médias de proximité 2025",
         "granted_on": "2025-03-14", "granted_eur": "100000.00", "received_eur": "80000.00", "to_receive_eur": "20000.00",
         "used_eur": "0.00", "awarded_eur": "93000.00", "grants_paid_eur": "75750.00", "reserved_eur": "7000.00",
         "unspent_eur": "7000.00", "available_eur": "0.00"}]},
    "credits": {**_COOP, "hosts": [
        {"host_id": "MED-02", "sensors": 2, "carried_credits": "0.00", "earned_credits": "14.00",
         "redeemed_service_credits": "0.00", "redeemed_money_credits": "10.00", "paid_eur": "5.00",
         "balance_credits": "4.00"}],
        "summary": {**_COOP, "sensors": 5, "hosts": 4, "readings": 67641, "issued_credits": "66.01",
                    "carried_credits": "0.00", "redeemed_service_credits": "12.00", "redeemed_money_credits": "22.00",
                    "outstanding_credits": "32.01", "paid_eur": "11.00"}},
    "hours": {"coop": "mednum-scic", "period": "2025-04", "structures": [
        {"structure_id": "BEN-01", "logged_hours": "21.00", "rebilled_hours": "21.00", "billed_eur": "466.29",
         "to_rebill_hours": "0.00"}]},
    "health": {"status": "ok", "position": 736, "projected": 736, "projection_error": None, "standbys": None},
    # SEPA direct debit (routes_sepa.py): the SCIC's mandates, IBAN masked, and its uncollected batch.
    "mandates": {"coop": "mednum-scic", "mandates": [
        {"mandate_id": "MNG-RUM-BEN03-1", "member_id": "BEN-03", "iban": "FR76 **** 6052", "bic": "PSSTFRPPXXX",
         "signed_on": "2026-11-07", "sequence": "first", "last_used_on": None, "revoked_on": None, "revoke_reason": None}]},
    "direct_debits": {"coop": "mednum-scic", "batches": [
        {"batch_id": "PRLV-2026-01", "year": 2026, "collection_date": "2026-12-10", "issued_on": "2026-12-07",
         "total_eur": "20.00", "collected_on": None, "items": [
             {"end_to_end_id": "PRLV-2026-01-00001", "member_id": "BEN-03", "mandate_id": "MNG-RUM-BEN03-1", "year": 2026,
              "amount_eur": "20.00", "sequence": "first", "status": "issued", "collected_on": None, "returned_on": None,
              "reason_code": None, "reason": None}]}]},
}


_AT = "2026-03-02T10:41:27.512094+00:00"  # a recorded_at, as the ledger writes it (UTC)
_FY_CLOSED = {"coop": "assoc-garrigues", "year": 2025, "first_day": "2025-01-01", "last_day": "2025-12-31", "entries": 9,
              "status": "closed", "result_eur": "380.00", "closing_number": 9,
              "closing_hash": "c4c8d0e818b25b2d00799e595cced7093a5ce2ffb2d132b3cb21990212e5f2bd", "head_number": 8,
              "head_hash": "02d48afdc078ad4910ac3df8f506679489f547f97a082ee6a3ac941a277742da",
              "closed_at": "2026-01-30T16:02:11.804512+00:00", "closed_by": "key:3f9a0c2b7d41",
              "event_head": "14:5d0f6c3e9b2a41d8c7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4"}
_HEAD = "15:a85fc9df531c33231c963ed138147eb8ad5acf7c55d7effc78dfcd33ab11d878"
_AUDIT_EVENT = {**_COOP, "position": 79, "version": 40, "kind": "EntryReversed",
 "recorded_at": "2025-08-04T08:12:40.118305+00:00",
                "effective_date": "2025-07-31", "actor": "key:3f9a0c2b7d41", "idempotency_key": "demo-0040",
                "reason": "Règlement saisi deux fois (relevé bancaire de juillet)", "journal_number": 27, "reverses": 26,
                "label": "Annulation de l'écriture 26 : Règlement saisi deux fois (relevé bancaire de juillet)",
                 "accounts": ["411", "512"]}
_BILINGUAL = {"fr": "Cotisations payées ÷ cotisations appelées pour l'exercice en cours, montants cumulés par date d'effet.",
              "en": "Fees paid ÷ fees called for the current fiscal year, amounts summed by effective date."}
_REPORT_LINE = {"label_fr": "Usagers, adhérents", "label_en": "Customers, members"}
_FACT = {"position": 51, **_COOP, "kind": "fee.paid", "event": "FeePaid", "effective_date": "2025-03-10",
         "recorded_at": "2025-03-10T14:05:52.730118+00:00", "actor": "key:3f9a0c2b7d41", "idempotency_key": "demo-0026",
         "data": {"reason": None, "member_id": "ENT-01", "year": 2025, "amount_eur": "800.00"},
         "entry": {"number": 13, "label": "Règlement cotisation 2025 – ENT-01", "reverses": None,
                   "chain_hash": "1ce8d4e41aeda6c42a3617635e54136b4f48042ff5fad2209f7eab1fbd678265",
                   "postings": [{"account": "512", "party": None, "unit": "EUR", "amount": "800.00"},
                                {"account": "411", "party": "ENT-01", "unit": "EUR", "amount": "-800.00"}]}}
_FOUNDED = {**_FACT, "position": 1, "kind": "cooperative.founded", "event": "CooperativeFounded", "effective_date": "2025-01-15",
            "recorded_at": "2025-01-15T10:00:04.120877+00:00", "idempotency_key": "demo-0001", "entry": None, "data": {
                "reason": None, "name": "Cluster Numérique Sud", "legal_form": "association", "siren": "912345675",
                "fiscal_year_start_month": 1, "weighted": True, "share_value_eur": None,
                "colleges": [{"code": "medias", "name": "Médias", "weight": "40"},
                             {"code": "entreprises", "name": "Entreprises associées", "weight": "20"}],
                "fee_schedule": [{"min_headcount": 1, "max_headcount": 9, "amount_eur": "100.00"},
                                 {"min_headcount": 250, "max_headcount": None, "amount_eur": "1500.00"}],
                "voting_policy": {"require_fee_paid": True, "min_shares": 0, "empty_college_policy": "redistribute"}}}

# The audit, funding, observatory, report and feed routes' answers, also the demo's, built from the pieces above.
READS.update({
    "chain": {"coop": "assoc-garrigues", "last_number": 9, "last_hash": _FY_CLOSED["closing_hash"],
              "recorded_at": _FY_CLOSED["closed_at"], "position": 859, "head": _HEAD, "events": 15, "sealed": [
                  {k: _FY_CLOSED[k] for k in ("year", "closing_number", "closing_hash", "head_number", "head_hash", "closed_at",
                                              "event_head")}
                  | {"closed_through": "2025-12-31"}]},
    "fiscal_years": {"coop": "assoc-garrigues", "fiscal_years": [_FY_CLOSED, {
        **_FY_CLOSED, "year": 2026, "first_day": "2026-01-01", "last_day": "2026-12-31", "entries": 3, "status": "open",
        **dict.fromkeys(("result_eur", "closing_number", "closing_hash", "head_number", "head_hash", "closed_at", "closed_by",
                          "event_head"))}]},
    "audit_trail": {**_COOP, "events": [_AUDIT_EVENT], "next_after": 79},
    "gifts": {**_COOP, "gifts": [
        {"gift_id": "ULULE-STUDIO-2026", "source": "crowdfunding", "purpose": "project:studio-mobile", "platform": "Ulule",
         "campaign": "Studio mobile des médias locaux", "received_on": "2026-06-05", "gross_eur": "12450.00", "fee_eur": "996.00",
         "net_eur": "11454.00", "journal_number": 186, "reversed_on": None},
        {"gift_id": "DON-2026-002", "source": "donation", "purpose": None, "platform": None, "campaign": None,
         "received_on": "2026-02-03", "gross_eur": "60.00", "fee_eur": "0.00", "net_eur": "60.00", "journal_number": 179,
          "reversed_on": None}]},
    "dedicated_funds": {**_COOP, "as_of": "2026-12-31", "gifts": [
        {"gift_id": "MEC-2026-001", "purpose": "project:podcasts-occitan", "source": "donation", "received_on": "2026-02-16",
         "dedicated_eur": "3000.00", "used_eur": "1250.00", "unspent_eur": "1750.00"}],
        "by_purpose": [{"purpose": "project:podcasts-occitan", "dedicated_eur": "3000.00", "used_eur": "1250.00",
         "unspent_eur": "1750.00"}],
        "unspent_eur": "7204.00", "next_after": "MEC-2026-001"},
    "receipts": {**_COOP, "year": 2026, "donors": [
        {"donor_id": "DO-002", "donor_name": "Marc Delmas", "donor_kind": "individual",
         "donor_address": "12 avenue Foch, 30000 Nîmes",
         "gifts": [{"gift_id": "DON-2026-002", "date": "2026-02-03", "amount_eur": "60.00", "nature": "numéraire",
          "method": "cheque"},
                   {"gift_id": "ULULE-STUDIO-2026", "date": "2026-06-05", "amount_eur": "75.00", "nature": "numéraire",
                    "method": "platform"}],
         "total_eur": "135.00", "receipt": True}],
        "next_after": "DO-002", "named_eur": "8875.00", "anonymous_eur": "11875.00", "total_eur": "20750.00"},
    "tax_receipts": {**_COOP, "year": 2026, "receipts": [
        {**_COOP, "receipt_number": "2026-0002", "year": 2026, "sequence": 2, "status": "issued", "donor_id": "DO-002",
         "donor_name": "Marc Delmas", "donor_address": "12 avenue Foch, 30000 Nîmes", "donor_kind": "individual",
         "article": "200", "total_eur": "135.00", "issued_on": "2026-11-30", "corrects": None, "replaced_by": None,
         "cancelled_on": None,
         "issuer": {"name": "Cluster Numérique Sud", "siren": "912345675",
                    "address": "Hôtel d'entreprises Cap Omega, rond-point Benjamin Franklin, 34000 Montpellier",
                    "mission": "Fédérer et accompagner les médias, entreprises et acteurs publics du numérique en Occitanie",
                    "basis": "general_interest", "reference": None, "place": "Montpellier"},
         "gifts": [{"gift_id": "DON-2026-002", "received_on": "2026-02-03", "amount_eur": "60.00", "method": "cheque",
                    "form": "manual_gift", "reversed_on": None},
                   {"gift_id": "ULULE-STUDIO-2026", "received_on": "2026-06-05", "amount_eur": "75.00", "method": "platform",
                    "form": "manual_gift", "reversed_on": None}]}],
        "flagged": [{"receipt_number": "2026-0002", "gift_id": "DON-2026-002", "reversed_on": "2026-12-02"}],
        "standing": 7, "issued_eur": "8875.00", "next_after": None},
    "donations_by_month": {**_COOP, "months": [{"month": "2026-02", "gross_eur": "3060.00", "lines": 2},
                                               {"month": "2026-06", "gross_eur": "12450.00", "lines": 5}]},
    "ad_contracts": {**_COOP, "contracts": [
        {"contract_id": "PUB-BPI-2026", "advertiser_id": "bpifrance", "advertiser_name": "Bpifrance", "advertiser_kind": "bank",
         "placement": "Bandeau « Financer votre projet innovant » sur la place de marché", "period": "month",
          "price_eur": "450.00",
         "starts_on": "2026-03-01", "ends_on": "2026-08-31", "signed_on": "2026-02-20", "invoices": 4, "invoiced_eur": "1800.00",
         "paid_eur": "1550.00", "due_eur": "250.00"}]},
    "ad_invoices": {**_COOP, "contract_id": "PUB-BPI-2026", "invoices": [
        {"period": "2026-06", "advertiser_id": "bpifrance", "amount_eur": "450.00", "paid_eur": "200.00", "due_eur": "250.00",
         "invoiced_on": "2026-06-01"}]},
    "ad_revenue": {**_COOP, "months": [{"month": "2026-04", "invoiced_eur": "1950.00", "received_eur": "1650.00",
     "advertisers": 3}]},
    "observatory": {**_COOP, "name": "Cluster Numérique Sud", "as_of": "2025-12-31", "fiscal_year": 2025, "position": 883,
                    "last_event": {"name": "Cluster Numérique Sud", "position": 789, "recorded_at": _AT,
                                   "head": "273:25da11129a29ed14d0ef3bb503fa3bc1feb2381496fff284e65532932d9ff87e"},
                                    "public": True,
                    "months": ["2025-10", "2025-11", "2025-12"], "indicators": [
                        {"id": "members", "title": {"fr": "Membres par collège", "en": "Members per college"},
                         "definition": {"fr": "Membres admis et pas encore sortis à la date, par collège.",
                                        "en": "Members admitted and not yet gone on the day, per college."},
                         "value": {"colleges": [{"code": "medias", "name": "Médias", "members": 4, "in_good_standing": 4}],
                                   "members": 11, "in_good_standing": 10},
                         "series": [{"key": "members:medias", "label": {"fr": "Membres – Médias", "en": "Members – Médias"},
                                     "unit": "count", "values": [5, 5, 5]}]},
                        {"id": "fees", "title": {"fr": "Taux de recouvrement des cotisations", "en": "Fee collection rate"},
                         "definition": _BILINGUAL, "value": {"year": 2025, "called_eur": "6400.00", "paid_eur": "6250.00",
                                                             "rate_percent": "97.66"},
                         "series": [{"key": "rate_percent", "label": {"fr": "Taux de recouvrement", "en": "Collection rate"},
                                     "unit": "percent", "values": ["74.22", "97.66", "97.66"]}]}],
                    "generated_at": "2026-01-05T08:30:00.015724+00:00"},
    "report_trial_balance": {**_COOP, "start": "2025-01-01", "end": "2025-12-31", "lines": [
        {"unit": "EUR", "account": "411", **_REPORT_LINE, "opening": "0.00", "debit": "10883.85", "credit": "10182.45",
         "closing": "701.40"}],
        "totals": {"EUR": {"unit": "EUR", "opening": "0.00", "debit": "543567.90", "credit": "543567.90", "closing": "0.00"},
                   "CREDIT": {"unit": "CREDIT", "opening": "0.00", "debit": "64.89", "credit": "64.89", "closing": "0.00"}}},
    "balance_sheet": {**_COOP, "end": "2025-12-31", "lines": [
        {"side": "assets", "section": "receivables", "account": "411", **_REPORT_LINE, "amount_eur": "701.40"},
        {"side": "liabilities", "section": "equity", "account": "",
         "label_fr": "Résultat non encore clôturé (produits − charges)",
         "label_en": "Result not yet closed (income − expenses)", "amount_eur": "8232.25"}],
        "sections": [{"side": "assets", "section": "receivables", "label_fr": "Créances", "label_en": "Receivables",
         "total_eur": "20701.40"}],
        "totals": {"assets_eur": "60232.25", "liabilities_and_equity_eur": "60232.25", "unclosed_result_eur": "8232.25",
                   "off_balance_sheet_eur": "0.00"}},
    "income_statement": {**_COOP, "start": "2025-01-01", "end": "2025-12-31", "lines": [
        {"side": "income", "section": "operating", "account": "7561", "label_fr": "Cotisations sans contrepartie",
         "label_en": "Membership fees without consideration", "amount_eur": "6400.00"}],
        "sections": [{"side": "income", "section": "operating", "label_fr": "Produits d'exploitation",
         "label_en": "Operating income", "total_eur": "110733.85"}],
        "totals": {"expenses_eur": "198501.60", "income_eur": "206733.85", "result_eur": "8232.25"}},
    "report_statement": {**_COOP, "account": "411", "party": "MED-01", "unit": "EUR", "start": "2025-01-01", "end": "2025-12-31",
                         "lines": [{"effective_date": "2025-02-01", "number": 1, "label": "Cotisation 2025 – MED-01",
                                    "party": "MED-01", "unit": "EUR", "debit": "300.00", "credit": "0.00", "balance": "300.00"},
                                   {"effective_date": "2025-07-14", "number": 17, "label": "Règlement cotisation 2025 – MED-01",
                                    "party": "MED-01", "unit": "EUR", "debit": "0.00", "credit": "300.00", "balance": "0.00"}],
                         "total_lines": 2, "totals": {"unit": "EUR", "opening": "0.00", "movement": "0.00", "closing": "0.00"}},
    "feed": {**_COOP, "facts": [_FOUNDED, _FACT], "next_after": 51, "more": True},
})
# The same reports as CSV (format=csv): one row per line, amounts in minor units.
CSV: dict[str, str] = {
    "report_trial_balance": "unit,account,label_fr,label_en,opening_minor,debit_minor,credit_minor,closing_minor\r\n"
                            'EUR,411,"Usagers, adhérents","Customers, members",0,1088385,1018245,70140\r\n',
    "balance_sheet": "side,section,account,label_fr,label_en,amount_minor\r\n"
                     'assets,receivables,411,"Usagers, adhérents","Customers, members",70140\r\n',
    "income_statement": "side,section,account,label_fr,label_en,amount_minor\r\n"
                        "income,operating,7561,Cotisations sans contrepartie,Membership fees without consideration,640000\r\n",
    "report_statement": "effective_date,number,label,party,debit_minor,credit_minor,balance_minor\r\n"
                        "2025-02-01,1,Cotisation 2025 – MED-01,MED-01,30000,0,30000\r\n"
                        "2025-07-14,17,Règlement cotisation 2025 – MED-01,MED-01,0,30000,0\r\n",
}
# What a feed stream sends (Accept: text/event-stream): the retry hint, facts (id = log position), heartbeats.
FEED_STREAM = ("retry: 1000\n\n"
               f"id: 51\nevent: fee.paid\ndata: {orjson.dumps(_FACT).decode()}\n\n"
               ": keep-alive\n\n")

# Webhook admin (role admin): not read on the demo's books but from an endpoint the examples test registers.
_ENDPOINT = {"endpoint_id": "wh_3c9e1f0a7b52", **_COOP, "url": "https://compta.cluster-numerique-sud.example/hooks/coopledger",
             "kinds": ["fee.paid", "entry.reversed"], "role": "admin", "description": "Logiciel de comptabilité",
              "status": "active",
             "cursor": 883, "failures": 0, "failing_since": None, "next_attempt_at": _AT, "last_error": None, "paused_at": None,
             "created_at": _AT, "created_by": "key:3f9a0c2b7d41"}
WEBHOOKS: dict[str, Any] = {
    "create": {k: _ENDPOINT[k] for k in ("url", "kinds", "description")},
    "created": {**_ENDPOINT, "secret": "whsec_q3ZK0y7mV2cJ9wTnR5uXh1bLdA8sFe4gPo6iKtYrW0E"},
    "list": {**_COOP, "endpoints": [_ENDPOINT]},
    "endpoint": _ENDPOINT,
    "deleted": {"endpoint_id": _ENDPOINT["endpoint_id"], "status": "deleted"},
    "deliveries": {**_COOP, "endpoint_id": _ENDPOINT["endpoint_id"], "deliveries": [
        {"position": 891, "kind": "fee.paid", "status": "delivered", "attempts": 2, "last_status_code": 200, "last_error": None,
         "first_attempt_at": "2026-03-02T10:41:28.004211+00:00", "last_attempt_at": "2026-03-02T10:41:31.377902+00:00",
         "delivered_at": "2026-03-02T10:41:31.377902+00:00"}], "next_after": 891},
}


def report(name: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a report: 200 with the JSON example and the CSV one (format=csv)."""
    return {200: {"description": "The report (JSON), or its lines as CSV with format=csv",
                  "content": {"application/json": {"example": READS[name]},
                              "text/csv": {"schema": {"type": "string"}, "example": CSV[name]}}}}


# The start of a tax receipt's PDF (GET .../tax-receipts/{number}.pdf): the document is binary.
TAX_RECEIPT_PDF = "%PDF-1.3\n%\u00e2\u00e3\u00cf\u00d3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n..."


def read(name: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a read route: 200 with the demo's answer `READS[name]`."""
    return ok(READS[name])


# A verification with a head kept outside the store: not compared with the demo (its hashes depend on
# when the demo was recorded, and the route's `head` query would have to match them).
VERIFY = {"coop": "assoc-garrigues", "ok": True, "events": 15, "entries": 9, "last_number": 9,
          "last_hash": _FY_CLOSED["closing_hash"], "head": _HEAD,
          "sealed": [{"year": 2025, "closing_number": 9, "head_number": 8, "head_hash": _FY_CLOSED["head_hash"],
                      "event_head": _FY_CLOSED["event_head"]}],
          "head_check": {"head": _FY_CLOSED["event_head"], "found": _FY_CLOSED["event_head"], "ok": True}, "problem": None}
