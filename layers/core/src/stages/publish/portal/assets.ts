/** The portal's only stylesheet: system fonts, no framework, readable from phone to desktop. */
export const portalCss = `
:root { --ink: #1b1f24; --muted: #57606a; --line: #d0d7de; --accent: #08519c; --bg: #fff; --soft: #f6f8fa;
  --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
a { color: var(--accent); }
body, dd, td, li { overflow-wrap: break-word; }
ul.downloads code, dd code { overflow-wrap: anywhere; }
th code { white-space: nowrap; }
a:focus-visible, button:focus-visible, input:focus-visible, svg:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: 1rem; background: var(--bg); padding: .5rem; z-index: 1; }
header.site, main, footer.site { max-width: 72rem; margin: 0 auto; padding: 1rem; }
header.site { border-bottom: 1px solid var(--line); }
header.site p { margin: .25rem 0 0; color: var(--muted); }
h1 { font-size: 1.75rem; margin: .5rem 0; }
h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid var(--line); padding-bottom: .25rem; }
.search { margin: 1rem 0; }
.search input { width: 100%; max-width: 32rem; font: inherit; padding: .5rem .75rem; border: 1px solid var(--muted); border-radius: 6px; }
ul.cards { list-style: none; padding: 0; display: grid; gap: 1rem; grid-template-columns: repeat(auto-fill, minmax(18rem, 1fr)); }
ul.cards > li { border: 1px solid var(--line); border-radius: 8px; padding: 1rem; background: var(--bg); }
ul.cards h3 { margin: 0 0 .25rem; font-size: 1.1rem; }
ul.cards p { margin: .25rem 0; color: var(--muted); font-size: .95rem; }
.badges { display: flex; flex-wrap: wrap; gap: .4rem; margin: .5rem 0; padding: 0; list-style: none; }
.badge { display: inline-block; font-size: .8rem; padding: .1rem .5rem; border-radius: 999px; border: 1px solid currentColor; }
.badge.ok { color: var(--ok); } .badge.warn { color: var(--warn); } .badge.bad { color: var(--bad); } .badge.info { color: var(--muted); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; }
.table-wrap { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; }
/* Wide tables scroll: their region takes the keyboard focus (WCAG 2.1.1), and shows it. */
.table-wrap:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--soft); }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
ul.downloads { padding-left: 1.25rem; }
figure { margin: 1rem 0; }
figcaption { color: var(--muted); font-size: .9rem; }
.map { border: 1px solid var(--line); border-radius: 6px; background: var(--soft); position: relative; }
.map-svg { display: block; width: 100%; height: min(70vh, 36rem); touch-action: none; cursor: grab; }
.map-svg .shape { fill: #c6dbef; stroke: #3182bd; stroke-width: 1; vector-effect: non-scaling-stroke; }
.map-svg .point { fill: #08519c; fill-opacity: .75; }
.map-svg .feature:hover { stroke: #f59e0b; stroke-width: 2; }
.map-tools { position: absolute; top: .5rem; right: .5rem; display: flex; gap: .25rem; }
.map-tools button { font: inherit; min-width: 2.25rem; min-height: 2.25rem; border: 1px solid var(--muted); background: var(--bg); border-radius: 4px; cursor: pointer; }
.bar-chart { width: 100%; height: auto; font-size: 11px; }
.line-chart { width: 100%; height: auto; font-size: 11px; }
figure.lineage { margin: 0; overflow-x: auto; }
.lineage { width: 100%; height: auto; font-size: 12px; }
.lineage .edge { fill: none; stroke: #6b7280; stroke-width: 1.5; }
.lineage .node rect { fill: #fff; stroke: var(--ink); stroke-width: 1; }
.lineage .node.model rect { fill: #e8effa; }
.lineage .node.exports rect { fill: #f3f4f6; stroke-dasharray: 3 2; }
.lineage .node.focus rect { stroke: var(--accent); stroke-width: 3; }
.lineage .node text { fill: var(--ink); }
.lineage a.node:focus rect, .lineage a.node:hover rect { stroke: var(--accent); stroke-width: 2; }
.line-chart .axis line { stroke: var(--ink); stroke-width: 1; }
.line-chart .axis text { fill: var(--ink); }
.line-chart .series path { fill: none; stroke: currentColor; stroke-width: 2; }
.line-chart .series circle { fill: currentColor; }
.line-chart .series text { fill: currentColor; }
.bar-chart rect { fill: var(--accent); }
.bar-chart text { fill: var(--ink); }
.bar-chart .bar:hover rect { fill: #f59e0b; }
ul.legend { list-style: none; display: flex; flex-wrap: wrap; gap: .75rem; padding: 0; font-size: .9rem; }
.swatch { display: inline-block; width: 1rem; height: 1rem; margin-right: .35rem; vertical-align: -2px; border: 1px solid var(--muted); }
.status-succeeded { color: var(--ok); } .status-failed { color: var(--bad); } .status-running, .status-skipped { color: var(--muted); }
footer.site { color: var(--muted); font-size: .85rem; border-top: 1px solid var(--line); margin-top: 2rem; }
@media (max-width: 40rem) { dl.facts { grid-template-columns: 1fr; } dl.facts dd { margin-bottom: .5rem; } }
`;

/**
 * The portal's only script, progressive: every page works without it; with it, the home page
 * filters as one types, freshness badges are recomputed at reading time (the pages are static,
 * time is not) and maps zoom and pan (buttons, keyboard, mouse and touch).
 */
export const portalJs = `
(function () {
  'use strict';
  var fold = function (text) { return text.normalize('NFD').replace(/[\\u0300-\\u036f]/g, '').toLowerCase(); };

  var search = document.getElementById('search');
  if (search) {
    var cards = Array.prototype.slice.call(document.querySelectorAll('[data-search]'));
    var count = document.getElementById('search-count');
    var filter = function () {
      var words = fold(search.value).split(/\\s+/).filter(Boolean);
      var shown = 0;
      cards.forEach(function (card) {
        var text = card.getAttribute('data-search');
        var match = words.every(function (word) { return text.indexOf(word) !== -1; });
        card.hidden = !match;
        if (match) shown++;
      });
      if (count) count.textContent = count.getAttribute('data-template').replace('{n}', String(shown));
    };
    search.addEventListener('input', filter);
    filter();
  }

  Array.prototype.forEach.call(document.querySelectorAll('[data-last-load]'), function (badge) {
    var age = (Date.now() - Date.parse(badge.getAttribute('data-last-load'))) / 3600000;
    var limit = Number(badge.getAttribute('data-limit-hours'));
    if (!isFinite(age) || !limit) return;
    var stale = age > limit;
    badge.className = 'badge ' + (stale ? 'warn' : 'ok');
    badge.textContent = badge.getAttribute(stale ? 'data-stale' : 'data-fresh');
  });

  Array.prototype.forEach.call(document.querySelectorAll('.map'), function (figure) {
    var svg = figure.querySelector('svg.map-svg');
    var tools = figure.querySelector('.map-tools');
    if (!svg || !tools) return;
    var initial = svg.getAttribute('data-viewbox').split(' ').map(Number);
    var box = initial.slice();
    var apply = function () { svg.setAttribute('viewBox', box.map(function (v) { return v.toFixed(1); }).join(' ')); };
    var zoom = function (factor, cx, cy) {
      cx = cx === undefined ? box[0] + box[2] / 2 : cx;
      cy = cy === undefined ? box[1] + box[3] / 2 : cy;
      box = [cx - (cx - box[0]) * factor, cy - (cy - box[1]) * factor, box[2] * factor, box[3] * factor];
      apply();
    };
    var pan = function (dx, dy) { box[0] += dx * box[2]; box[1] += dy * box[3]; apply(); };
    tools.hidden = false;
    svg.setAttribute('tabindex', '0');
    tools.addEventListener('click', function (event) {
      var action = event.target.getAttribute && event.target.getAttribute('data-action');
      if (action === 'in') zoom(0.5);
      if (action === 'out') zoom(2);
      if (action === 'reset') { box = initial.slice(); apply(); }
    });
    svg.addEventListener('keydown', function (event) {
      var keys = { ArrowLeft: [-0.1, 0], ArrowRight: [0.1, 0], ArrowUp: [0, -0.1], ArrowDown: [0, 0.1] };
      if (keys[event.key]) { pan(keys[event.key][0], keys[event.key][1]); event.preventDefault(); }
      if (event.key === '+' || event.key === '=') { zoom(0.5); event.preventDefault(); }
      if (event.key === '-') { zoom(2); event.preventDefault(); }
    });
    var toBox = function (event) {
      var rect = svg.getBoundingClientRect();
      var scale = Math.max(box[2] / rect.width, box[3] / rect.height);
      return { x: box[0] + box[2] / 2 + (event.clientX - rect.left - rect.width / 2) * scale,
               y: box[1] + box[3] / 2 + (event.clientY - rect.top - rect.height / 2) * scale, scale: scale };
    };
    svg.addEventListener('wheel', function (event) {
      var at = toBox(event);
      zoom(event.deltaY < 0 ? 0.8 : 1.25, at.x, at.y);
      event.preventDefault();
    }, { passive: false });
    var drag = null;
    svg.addEventListener('pointerdown', function (event) { drag = { x: event.clientX, y: event.clientY }; svg.setPointerCapture(event.pointerId); });
    svg.addEventListener('pointermove', function (event) {
      if (!drag) return;
      var scale = toBox(event).scale;
      box[0] -= (event.clientX - drag.x) * scale; box[1] -= (event.clientY - drag.y) * scale;
      drag = { x: event.clientX, y: event.clientY };
      apply();
    });
    svg.addEventListener('pointerup', function () { drag = null; });
  });
})();
`;
