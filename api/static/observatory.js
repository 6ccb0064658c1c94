// The observatory page: renders the indicators' JSON, follows the server-sent events of
// /observatory/{coop}/events (the whole JSON when the cooperative records something, a
// freshness note when only the log moved on) and redraws in place, without reloading.
// Plain JavaScript, no build step; charts by Chart.js served from /static/vendor/.
"use strict";

const coop = document.body.dataset.coop;
const LOCALES = { fr: "fr-FR", en: "en-GB" };
let lang = localStorage.getItem("observatory-lang") === "en" ? "en" : "fr";
let report = null;          // the last JSON received
let receivedAt = null;      // performance.now() when the last event arrived
let freshPosition = null;   // the views' position as of the last event
const charts = {};          // indicator id -> Chart

const UI = {
  heading: ["Observatoire", "Observatory"],
  connecting: ["Connexion…", "Connecting…"],
  footer: ["Chiffres tirés du grand livre de la coopérative, mis à jour en direct.",
           "Figures from the cooperative's ledger, updated live."],
  switchTo: ["English", "Français"],
  updated: ["Mis à jour il y a", "Updated"], ago: ["", "ago"],
  position: ["position", "position"], lastEvent: ["dernier événement", "last event"], head: ["empreinte", "chain head"],
  asOf: ["au", "as of"], lost: ["Connexion perdue, nouvelle tentative…", "Connection lost, retrying…"],
  denied: ["Accès refusé : ouvrez cette page avec ?key=<clé API>.", "Access denied: open this page with ?key=<API key>."],
};
const t = (key) => UI[key][lang === "fr" ? 0 : 1];
const pick = (text) => text[lang];

// ------------------------------------------------------------------ numbers for French (or English) readers

// The server gives Babel's symbols and patterns (api/format.py browser_locale): the page writes
// numbers as the command line and the API do. Amounts arrive as the API writes them, decimal strings
// with two places in the major unit ("1234.56" euros, "21.50" hours): they stay text, never floats.
const NUMBERS = JSON.parse(document.getElementById("locale-data").textContent);

function grouped(digits) {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, NUMBERS[lang].group);
}

function decimal(text) {  // "-1234.5" (a plain decimal string) -> "-1 234,5"
  const L = NUMBERS[lang];
  const negative = text.startsWith("-");
  const [whole, fraction] = (negative ? text.slice(1) : text).split(".");
  return (negative ? L.minus : "") + grouped(whole) + (fraction ? L.decimal + fraction : "");
}

function hundredths(value) {  // an amount ("1234.56", or a chart's tick, a number) -> integer hundredths
  if (typeof value !== "string") return BigInt(Math.round(Number(value) * 100));  // ticks may fall between cents
  const negative = value.startsWith("-");
  const [whole, part = ""] = (negative ? value.slice(1) : value).split(".");
  const n = BigInt(whole || "0") * 100n + BigInt((part + "00").slice(0, 2));
  return negative ? -n : n;
}

function twoPlaces(value) {  // an amount -> "1234.56", exactly
  const n = hundredths(value), abs = n < 0n ? -n : n;
  return `${n < 0n ? "-" : ""}${abs / 100n}.${String(abs % 100n).padStart(2, "0")}`;
}

function fmt(value, unit) {
  if (value === null || value === undefined) return "–";
  const L = NUMBERS[lang];
  switch (unit) {
    case "EUR": return L.euro[0] + decimal(twoPlaces(value)) + L.euro[1];
    case "CREDIT": return decimal(twoPlaces(value)) + (lang === "fr" ? " crédits" : " credits");
    case "HOUR": {
      const tenths = Math.round(Number(hundredths(value)) / 10);  // hours to one decimal, a whole hour without one
      return decimal(tenths % 10 === 0 ? String(tenths / 10) : (tenths / 10).toFixed(1)) + " h";
    }
    case "percent": return L.percent[0] + decimal(Number(value).toFixed(2)) + L.percent[1];
    default: return decimal(String(Math.round(Number(value))));
  }
}

// ------------------------------------------------------------------ what each indicator shows

const L = (fr, en) => ({ fr, en });
const FIGURES = {  // indicator id -> [value key, label, unit]
  members: [["members", L("Membres", "Members"), "count"], ["in_good_standing", L("À jour", "In good standing"), "count"]],
  fees: [["rate_percent", L("Taux", "Rate"), "percent"], ["called_eur", L("Appelé", "Called"), "EUR"],
         ["paid_eur", L("Payé", "Paid"), "EUR"], ["year", L("Exercice", "Fiscal year"), "year"]],
  fund: [["balance_eur", L("Solde", "Balance"), "EUR"], ["committed_eur", L("Engagé", "Committed"), "EUR"],
         ["available_eur", L("Disponible", "Available"), "EUR"]],
  calls: [["envelope_eur", L("Enveloppes", "Envelopes"), "EUR"], ["awarded_eur", L("Attribué", "Awarded"), "EUR"],
          ["paid_eur", L("Versé", "Paid"), "EUR"], ["remaining_eur", L("Reste", "Remaining"), "EUR"],
          ["laureates", L("Lauréats", "Laureates"), "count"], ["open", L("Appels ouverts", "Open calls"), "count"]],
  subsidies: [["granted_eur", L("Accordé", "Granted"), "EUR"], ["received_eur", L("Reçu", "Received"), "EUR"],
              ["to_receive_eur", L("À recevoir", "To receive"), "EUR"]],
  certifications: [["certified", L("Certifiés", "Certified"), "count"],
                   ["expiring_within_90_days", L("Expirent sous 90 j", "Expiring within 90 days"), "count"]],
  subscriptions: [["billed_eur", L("Facturé", "Billed"), "EUR"], ["paid_eur", L("Payé", "Paid"), "EUR"]],
  sensors: [["active_sensors", L("Capteurs actifs", "Active sensors"), "count"], ["readings", L("Relevés", "Readings"), "count"],
            ["issued_credits", L("Crédits émis", "Credits issued"), "CREDIT"],
            ["redeemed_credits", L("Crédits échangés", "Credits redeemed"), "CREDIT"]],
  shared_hours: [["logged_hours", L("Déclarées", "Logged"), "HOUR"], ["rebilled_hours", L("Refacturées", "Rebilled"), "HOUR"],
                 ["billed_eur", L("Refacturé", "Rebilled"), "EUR"]],
  governance: [],
};
const TABLES = {  // indicator id -> [value key holding rows, [[row key, label, unit], ...]]
  members: ["colleges", [["name", L("Collège", "College")], ["members", L("Membres", "Members"), "count"],
                         ["in_good_standing", L("À jour", "In good standing"), "count"]]],
  calls: ["listed", [["title", L("Appel", "Call")], ["envelope_eur", L("Enveloppe", "Envelope"), "EUR"],
                     ["awarded_eur", L("Attribué", "Awarded"), "EUR"], ["paid_eur", L("Versé", "Paid"), "EUR"],
                     ["laureates", L("Lauréats", "Laureates"), "count"]]],
  subsidies: ["listed", [["funder", L("Financeur", "Funder")], ["granted_eur", L("Accordé", "Granted"), "EUR"],
                         ["received_eur", L("Reçu", "Received"), "EUR"]]],
  certifications: ["expiring", [["member_id", L("Prestataire", "Provider")], ["valid_until", L("Valide jusqu'au", "Valid until")]]],
  subscriptions: ["periods", [["period", L("Période", "Period")], ["billed_eur", L("Facturé", "Billed"), "EUR"],
                              ["paid_eur", L("Payé", "Paid"), "EUR"]]],
  shared_hours: ["structures", [["structure_id", L("Structure", "Structure")], ["logged_hours", L("Déclarées", "Logged"), "HOUR"],
                                ["rebilled_hours", L("Refacturées", "Rebilled"), "HOUR"], ["billed_eur", L("Refacturé", "Billed"), "EUR"]]],
  governance: ["colleges", [["name", L("Collège", "College")], ["statutory_percent", L("Statutaire", "Statutory"), "percent"],
                            ["effective_percent", L("Effectif", "Effective"), "percent"], ["eligible_members", L("Votants", "Voters"), "count"]]],
};
const EMPTY_MAX = { HOUR: 10, EUR: 100, CREDIT: 100, percent: 100 };  // an empty chart's scale: 10 h, 100 €…
const BARS = new Set(["subscriptions", "shared_hours"]);  // monthly flows drawn as bars; stocks as lines
const COLOURS = ["#0b6e4f", "#d1495b", "#2e86ab", "#edae49", "#6c4f97", "#66a182", "#8d6a9f", "#3d5a80"];

// ------------------------------------------------------------------ rendering

function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function section(ind) {
  let node = document.getElementById(`ind-${ind.id}`);
  if (node) return node;
  node = el("section", { id: `ind-${ind.id}`, class: "indicator" });
  node.append(el("h2"), el("p", { class: "definition" }), el("dl", { class: "figures" }), el("div", { class: "table" }));
  if (ind.series.length || ind.id === "governance") {
    const box = el("div", { class: "chart" });
    box.append(el("canvas", { id: `chart-${ind.id}`, role: "img" }));
    node.append(box);
  }
  document.getElementById("indicators").append(node);
  return node;
}

function renderFigures(ind, node) {
  const dl = node.querySelector("dl.figures");
  for (const [key, label, unit] of FIGURES[ind.id]) {
    const id = `fig-${ind.id}-${key}`;
    let dd = document.getElementById(id);
    if (!dd) {
      const box = el("div");
      box.append(el("dt", { id: `${id}-label` }), (dd = el("dd", { id })));
      dl.append(box);
    }
    document.getElementById(`${id}-label`).textContent = pick(label);
    const raw = String(ind.value[key]);
    const text = unit === "year" ? raw : fmt(ind.value[key], unit);
    if (dd.dataset.raw !== undefined && dd.dataset.raw !== raw) {  // a figure that moved flashes once
      dd.classList.remove("changed"); void dd.offsetWidth; dd.classList.add("changed");
    }
    dd.dataset.raw = raw;
    dd.textContent = text;
  }
}

function renderTable(ind, node) {
  const spec = TABLES[ind.id];
  const box = node.querySelector("div.table");
  box.replaceChildren();
  if (!spec || !(ind.value[spec[0]] || []).length) return;
  const table = el("table", spec[1].length > 3 ? { class: "wide" } : {}), head = el("tr");
  for (const [, label, unit] of spec[1]) head.append(el("th", unit ? { class: "num" } : {}, pick(label)));
  table.append(head);
  for (const row of ind.value[spec[0]]) {
    const tr = el("tr");
    for (const [key, label, unit] of spec[1]) {  // data-label: the header a phone shows beside each figure
      tr.append(el("td", unit ? { class: "num", "data-label": pick(label) } : {}, unit ? fmt(row[key], unit) : String(row[key] ?? "")));
    }
    table.append(tr);
  }
  box.append(table);
}

function monthLabels(months) {  // "2025-01" -> "janv. 25" / "Jan 25", Babel's abbreviations
  return months.map((m) => `${NUMBERS[lang].months[Number(m.slice(5, 7)) - 1]} ${m.slice(2, 4)}`);
}

function chartData(ind) {
  if (ind.id === "governance") {
    const rows = ind.value.colleges;
    return { labels: rows.map((r) => r.name), unitLeft: "percent", datasets: [
      { label: lang === "fr" ? "Statutaire" : "Statutory", data: rows.map((r) => Number(r.statutory_percent)), backgroundColor: COLOURS[2] },
      { label: lang === "fr" ? "Effectif" : "Effective", data: rows.map((r) => Number(r.effective_percent)), backgroundColor: COLOURS[0] }] };
  }
  const unitLeft = ind.series[0].unit;
  return { labels: monthLabels(report.months), unitLeft, datasets: ind.series.map((s, i) => ({
    // Chart.js plots numbers; the tooltip shows the API's exact string (`exact`), not the plotted number.
    label: pick(s.label), data: s.values.map((v) => (v === null ? null : Number(v))), exact: s.values,
    yAxisID: s.unit === unitLeft ? "y" : "y1", unit: s.unit, borderColor: COLOURS[i % COLOURS.length], backgroundColor: COLOURS[i % COLOURS.length], tension: 0.2, pointRadius: 2 })) };
}

function renderChart(ind) {
  const canvas = document.getElementById(`chart-${ind.id}`);
  if (!canvas || typeof Chart === "undefined") return;
  const data = chartData(ind);
  const other = data.datasets.find((d) => d.yAxisID === "y1");
  // A tick whose label repeats the one below it (0 h, 0 h, … on an empty chart) is not drawn.
  const tick = (unit) => ({ callback: (v, i, ticks) => {
    const label = fmt(v, unit);
    return i > 0 && fmt(ticks[i - 1].value, unit) === label ? null : label;
  } });
  const empty = data.datasets.every((d) => d.data.every((v) => !v));
  // Many series: the legend goes below in small boxes and the box grows, so the plot keeps its height.
  const many = data.datasets.length > 3;
  const perLine = canvas.parentNode.clientWidth < 500 ? 1 : 2;  // legend entries per line, roughly
  canvas.parentNode.style.height = `${210 + (many ? 22 * Math.ceil(data.datasets.length / perLine) : 0)}px`;
  const options = {
    animation: false, maintainAspectRatio: false, interaction: { mode: "index", intersect: false },
    plugins: { legend: { position: many ? "bottom" : "top", labels: { boxWidth: 12, font: { size: 11 } } },
               tooltip: { callbacks: { label: (c) => {
                 const value = c.dataset.exact ? c.dataset.exact[c.dataIndex] : c.raw;
                 return `${c.dataset.label}: ${fmt(value, c.dataset.unit || data.unitLeft)}`;
               } } } },
    scales: { x: { ticks: { callback(v) {  // long college names, shortened on the axis (whole in the tooltip)
      const label = this.getLabelForValue(v);
      return typeof label === "string" && label.length > 14 ? `${label.slice(0, 13)}…` : label;
    } } },
    y: { beginAtZero: true, suggestedMax: empty ? EMPTY_MAX[data.unitLeft] || 1 : undefined, ticks: tick(data.unitLeft) },
      y1: { display: !!other, position: "right", beginAtZero: true, grid: { drawOnChartArea: false },
            ticks: tick(other ? other.unit : "count") } },
  };
  const type = ind.id === "governance" || BARS.has(ind.id) ? "bar" : "line";
  if (charts[ind.id]) {
    charts[ind.id].data = { labels: data.labels, datasets: data.datasets };
    charts[ind.id].options = options;
    charts[ind.id].update("none");
  } else {
    charts[ind.id] = new Chart(canvas, { type, data: { labels: data.labels, datasets: data.datasets }, options });
  }
}

function render() {
  if (!report) return;
  document.getElementById("coop-name").textContent = report.name || coop;
  for (const ind of report.indicators) {
    const node = section(ind);
    node.querySelector("h2").textContent = pick(ind.title);
    node.querySelector("p.definition").textContent = pick(ind.definition);
    renderFigures(ind, node);
    renderTable(ind, node);
    renderChart(ind);
  }
  renderStatic();
}

function renderStatic() {
  document.documentElement.lang = lang;
  for (const node of document.querySelectorAll("[data-text]")) node.textContent = t(node.dataset.text);
  document.getElementById("lang").textContent = t("switchTo");
  document.title = `${t("heading")} – ${report ? report.name : coop}`;
  renderFreshness();
}

function renderFreshness() {
  const node = document.getElementById("freshness");
  if (receivedAt === null) return;
  const seconds = (performance.now() - receivedAt) / 1000;
  const ago = new Intl.NumberFormat(LOCALES[lang], { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(seconds);
  const last = report && report.last_event ? new Date(report.last_event.recorded_at).toLocaleString(LOCALES[lang]) : "–";
  node.textContent = `${t("updated")} ${ago} s ${t("ago")}`.replace(/\s+/g, " ").trim()
    + ` · ${t("position")} ${fmt(freshPosition, "count")} · ${t("lastEvent")} ${last}`
    + (report ? ` · ${t("asOf")} ${new Date(`${report.as_of}T00:00:00Z`).toLocaleDateString(LOCALES[lang], { timeZone: "UTC" })}` : "")
    // The event chain's head at the last event (N:HASH, shortened): compare it with a head kept elsewhere.
    + (report && report.last_event && report.last_event.head ? ` · ${t("head")} ${report.last_event.head.slice(0, 20)}…` : "");
  node.title = report && report.last_event && report.last_event.head ? report.last_event.head : "";
  node.dataset.position = String(freshPosition);
}

// ------------------------------------------------------------------ live

function connect() {
  const source = new EventSource(`/observatory/${encodeURIComponent(coop)}/events`);
  const problem = document.getElementById("problem");
  source.addEventListener("observatory", (e) => {
    report = JSON.parse(e.data);
    receivedAt = performance.now();
    freshPosition = report.position;
    problem.hidden = true;
    render();
  });
  source.addEventListener("fresh", (e) => {
    const note = JSON.parse(e.data);
    receivedAt = performance.now();
    freshPosition = note.position;
    if (report) report.last_event = note.last_event;
    renderFreshness();
  });
  source.onerror = () => {
    problem.hidden = false;
    // CLOSED: the server refused the stream (no or wrong key); otherwise the browser retries by itself.
    problem.textContent = source.readyState === EventSource.CLOSED ? t("denied") : t("lost");
  };
}

document.getElementById("lang").addEventListener("click", () => {
  lang = lang === "fr" ? "en" : "fr";
  localStorage.setItem("observatory-lang", lang);
  render();
  renderStatic();
});
setInterval(renderFreshness, 100);
renderStatic();
connect();
