import type { Project } from '../../../platform/project';
import { html, type Html } from './html';
import { svgRoot, truncate } from './svg';

/** A node of the project's lineage: a source dataset, a model, or the exports of an output. */
export interface LineageNode {
  id: string;
  kind: 'dataset' | 'model' | 'exports';
  label: string;
  /** Its page, relative to portal/datasets/. */
  href?: string;
}

export interface LineageGraph {
  nodes: LineageNode[];
  edges: [from: string, to: string][];
}

/** Sources → models → exports, as the project declares them (each output's exports last). */
export function projectLineage(project: Project): LineageGraph {
  const nodes: LineageNode[] = [];
  const edges: [string, string][] = [];
  for (const dataset of project.datasets) {
    nodes.push({ id: dataset.id, kind: 'dataset', label: dataset.id, href: `${dataset.id}.html` });
    if (dataset.config.exports.length > 0) {
      nodes.push({ id: `${dataset.id}#exports`, kind: 'exports', label: dataset.config.exports.join(' · ') });
      edges.push([dataset.id, `${dataset.id}#exports`]);
    }
  }
  for (const model of project.models) {
    nodes.push({ id: model.name, kind: 'model', label: model.name, href: `${model.name}.html` });
    for (const input of [...model.sources, ...model.refs]) edges.push([input, model.name]);
    if (model.header.exports.length > 0) {
      nodes.push({ id: `${model.name}#exports`, kind: 'exports', label: model.header.exports.join(' · ') });
      edges.push([model.name, `${model.name}#exports`]);
    }
  }
  return { nodes, edges };
}

/** What `id` is made from and what is made from it, itself included. */
export function neighbourhood(graph: LineageGraph, id: string): LineageGraph {
  const keep = new Set([id]);
  const walk = (from: string, forward: boolean) => {
    for (const [a, b] of graph.edges) {
      const [here, next] = forward ? [a, b] : [b, a];
      if (here === from && !keep.has(next)) {
        keep.add(next);
        walk(next, forward);
      }
    }
  };
  walk(id, true);
  walk(id, false);
  return {
    nodes: graph.nodes.filter((node) => keep.has(node.id)),
    edges: graph.edges.filter(([a, b]) => keep.has(a) && keep.has(b)),
  };
}

/**
 * The graph drawn left to right in columns by depth (sources first, exports last), each node a
 * link to its page, each edge a curve: SVG only, no script, no external service. A group, not
 * an image: it holds links (an image's content is not interactive).
 */
export function lineageSvg(graph: LineageGraph, options: { title: string; focus?: string }): Html {
  const depth = new Map<string, number>();
  const depthOf = (id: string, seen = new Set<string>()): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    if (seen.has(id)) return 0;
    seen.add(id);
    const parents = graph.edges.filter(([, to]) => to === id).map(([from]) => from);
    const value = parents.length === 0 ? 0 : Math.max(...parents.map((parent) => depthOf(parent, seen))) + 1;
    depth.set(id, value);
    return value;
  };
  // Exports go in the last column, whatever their depth.
  const last =
    Math.max(0, ...graph.nodes.filter((node) => node.kind !== 'exports').map((node) => depthOf(node.id))) + 1;
  const columnOf = (node: LineageNode) => (node.kind === 'exports' ? last : depthOf(node.id));
  const columns = new Map<number, LineageNode[]>();
  for (const node of graph.nodes) columns.set(columnOf(node), [...(columns.get(columnOf(node)) ?? []), node]);
  const width = 190;
  const gap = 60;
  const rowHeight = 34;
  const boxHeight = 24;
  const place = new Map<string, { x: number; y: number }>();
  // Column by column, each node near its parents (ordered by their rows): fewer crossings.
  const parentRank = (id: string) => {
    const rows = graph.edges.filter(([, to]) => to === id).map(([from]) => place.get(from)?.y ?? 0);
    return rows.length > 0 ? Math.min(...rows) : 0;
  };
  for (const column of [...columns.keys()].sort((a, b) => a - b)) {
    const nodes = [...columns.get(column)!].sort((a, b) => parentRank(a.id) - parentRank(b.id));
    nodes.forEach((node, row) =>
      place.set(node.id, { x: 8 + column * (width + gap), y: 8 + row * rowHeight }),
    );
  }
  const svgWidth = 16 + (last + 1) * (width + gap) - gap;
  const svgHeight = 16 + Math.max(...[...columns.values()].map((nodes) => nodes.length)) * rowHeight;
  const edges = graph.edges.map(([from, to]) => {
    const a = place.get(from);
    const b = place.get(to);
    if (!a || !b) return html``;
    const [x1, y1, x2, y2] = [a.x + width, a.y + boxHeight / 2, b.x, b.y + boxHeight / 2];
    const middle = (x1 + x2) / 2;
    return html`<path class="edge" d="M${x1},${y1} C${middle},${y1} ${middle},${y2} ${x2},${y2}"></path>`;
  });
  const nodes = graph.nodes.map((node) => {
    const { x, y } = place.get(node.id)!;
    const box = html`<rect x="${x}" y="${y}" width="${width}" height="${boxHeight}" rx="4"></rect><text x="${x + 8}" y="${y + 16}">${truncate(node.label, 26)}</text>`;
    const classes = `node ${node.kind}${node.id === options.focus ? ' focus' : ''}`;
    return node.href
      ? html`<a href="${node.href}" class="${classes}"><title>${node.label}</title>${box}</a>`
      : html`<g class="${classes}"><title>${node.label}</title>${box}</g>`;
  });
  return svgRoot(
    { className: 'lineage', width: svgWidth, height: svgHeight, title: options.title, role: 'group' },
    html`${edges}${nodes}`,
  );
}
