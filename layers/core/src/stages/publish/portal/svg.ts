import { html, type Html } from './html';

/** A feature of a map, already projected (Web Mercator, metres; SVG's y points down). */
export type MapFeature =
  | { kind: 'point'; x: number; y: number; label: string; value?: number }
  | { kind: 'shape'; path: string; label: string; value?: number };

/** Extent of the features in the same projected, y-down coordinates. */
export interface Extent {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

/** Sequential palette (light to dark) for choropleth classes; readable on white. */
export const palette = ['#deebf7', '#9ecae1', '#6baed6', '#3182bd', '#08519c'];

/**
 * The root of every chart and graph: its class, size, title (read by screen readers) and role,
 * `img` for a picture, `group` for one that holds links.
 */
export function svgRoot(
  options: { className: string; width: number; height: number; title: string; role?: 'img' | 'group' },
  content: Html,
): Html {
  return html`<svg
    class="${options.className}"
    viewBox="0 0 ${options.width} ${options.height}"
    role="${options.role ?? 'img'}"
    aria-label="${options.title}"
    xmlns="http://www.w3.org/2000/svg"
  >
    <title>${options.title}</title>
    ${content}
  </svg>`;
}

const number = (value: number, locale: string) => value.toLocaleString(locale, { maximumFractionDigits: 2 });

/**
 * A map with no basemap: the features themselves in an SVG, which needs no tiles, no
 * network and no script (the portal's script only adds zoom and pan).
 */
export function mapSvg(
  features: MapFeature[],
  extent: Extent,
  options: { title: string; description: string; classes?: ChoroplethClass[] },
): Html {
  // A few points close together still get a readable area around them (2 km at least).
  const minimumSpan = 2_000;
  const width = Math.max(extent.maxX - extent.minX, minimumSpan);
  const height = Math.max(extent.maxY - extent.minY, minimumSpan);
  const left = (extent.minX + extent.maxX) / 2 - width / 2;
  const top = (extent.minY + extent.maxY) / 2 - height / 2;
  const margin = Math.max(width, height) * 0.02;
  const viewBox = [left - margin, top - margin, width + 2 * margin, height + 2 * margin]
    .map((value) => Math.round(value))
    .join(' ');
  const radius = Math.max(width, height) / 350;
  const fill = (value: number | undefined) =>
    options.classes && value !== undefined ? classOf(options.classes, value).color : undefined;
  const shapes = features.map((feature) => {
    const color = fill(feature.value);
    return feature.kind === 'point'
      ? html`<circle class="feature point" cx="${Math.round(feature.x)}" cy="${Math.round(feature.y)}" r="${Math.round(radius)}"><title>${feature.label}</title></circle>`
      : html`<path class="feature shape" d="${feature.path}"${color ? html` style="fill:${color}"` : ''}><title>${feature.label}</title></path>`;
  });
  return html`<svg
    class="map-svg"
    viewBox="${viewBox}"
    data-viewbox="${viewBox}"
    role="img"
    aria-label="${options.title}"
    preserveAspectRatio="xMidYMid meet"
    xmlns="http://www.w3.org/2000/svg"
  >
    <title>${options.title}</title>
    <desc>${options.description}</desc>
    <g>${shapes}</g>
  </svg>`;
}

export interface ChoroplethClass {
  min: number;
  max: number;
  color: string;
}

/**
 * Up to five classes of (about) equal counts, quantiles of the values; ties stay in one class,
 * and a handful of distinct values get a class each. Classes are inclusive ranges of values.
 */
export function quantileClasses(values: number[]): ChoroplethClass[] {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  const distinct = [...new Set(sorted)];
  let groups: number[][];
  if (distinct.length <= palette.length) groups = distinct.map((value) => [value]);
  else {
    groups = [];
    let group = -1;
    sorted.forEach((value, rank) => {
      const wanted = Math.floor((rank * palette.length) / sorted.length);
      // A value equal to the previous one stays in its class.
      if (group < 0 || (wanted > group && value !== sorted[rank - 1])) {
        group = wanted;
        groups.push([]);
      }
      groups[groups.length - 1]!.push(value);
    });
  }
  return groups.map((group, index) => ({
    min: group[0]!,
    max: group[group.length - 1]!,
    color:
      palette[
        groups.length === 1
          ? palette.length - 1
          : Math.round((index * (palette.length - 1)) / (groups.length - 1))
      ]!,
  }));
}

/** The class of a value: the first whose upper bound it does not exceed. */
export function classOf(classes: ChoroplethClass[], value: number): ChoroplethClass {
  return classes.find((entry) => value <= entry.max) ?? classes[classes.length - 1]!;
}

export function legend(classes: ChoroplethClass[], locale: string): Html {
  const range = (entry: ChoroplethClass) =>
    entry.min === entry.max
      ? number(entry.min, locale)
      : `${number(entry.min, locale)} – ${number(entry.max, locale)}`;
  return html`<ul class="legend">
    ${classes.map(
      (entry) => html`<li><span class="swatch" style="background:${entry.color}"></span>${range(entry)}</li>`,
    )}
  </ul>`;
}

/** Horizontal bars, largest first: labels stay readable however many rows there are. */
export function barChartSvg(
  rows: { label: string; value: number }[],
  options: { title: string; locale: string },
): Html {
  const barHeight = 16;
  const gap = 4;
  const labelWidth = 190;
  const plotWidth = 420;
  const valueWidth = 90;
  const max = Math.max(...rows.map((row) => row.value), 0);
  const scale = (value: number) => (max > 0 ? (value / max) * plotWidth : 0);
  const height = rows.length * (barHeight + gap) + gap;
  const bars = rows.map((row, index) => {
    const y = gap + index * (barHeight + gap);
    const text = `${row.label}: ${number(row.value, options.locale)}`;
    const width = Math.max(scale(row.value), 0.5).toFixed(1);
    const textY = y + barHeight - 4;
    return html`<g class="bar"><title>${text}</title><text x="${labelWidth - 6}" y="${textY}" text-anchor="end">${truncate(row.label, 28)}</text><rect x="${labelWidth}" y="${y}" width="${width}" height="${barHeight}"></rect><text class="value" x="${(labelWidth + scale(row.value) + 4).toFixed(1)}" y="${textY}">${number(row.value, options.locale)}</text></g>`;
  });
  return svgRoot(
    { className: 'bar-chart', width: labelWidth + plotWidth + valueWidth, height, title: options.title },
    html`${bars}`,
  );
}

export function truncate(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}

/** One line of a time-series chart: a series of an indicator, its values over time. */
export interface TimeSeries {
  label: string;
  points: { at: Date; value: number }[];
}

/** Distinct hues, each readable on white (WCAG non-text contrast ≥ 3:1). */
export const seriesPalette = ['#1f4e9c', '#b3400d', '#1b7a3c', '#7a2d91', '#8a6a00', '#0e6f7a'];

/**
 * Lines of values over time (an indicator's history), one per series, with a point at each
 * snapshot; labelled at their last value, so no legend is needed.
 */
export function lineChartSvg(series: TimeSeries[], options: { title: string; locale: string }): Html {
  const width = 700;
  const height = 260;
  const margin = { left: 60, right: 150, top: 12, bottom: 28 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const times = series.flatMap((line) => line.points.map((point) => point.at.getTime()));
  const values = series.flatMap((line) => line.points.map((point) => point.value));
  const [t0, t1] = [Math.min(...times), Math.max(...times)];
  const top = Math.max(...values, 0);
  const bottom = Math.min(...values, 0);
  const x = (time: number) => margin.left + (t1 > t0 ? ((time - t0) / (t1 - t0)) * plotWidth : plotWidth / 2);
  const y = (value: number) =>
    margin.top + (top > bottom ? (1 - (value - bottom) / (top - bottom)) * plotHeight : plotHeight / 2);
  // Within two days, the time of day tells the snapshots apart.
  const day = (time: number) =>
    t1 - t0 < 2 * 86_400_000
      ? new Date(time).toLocaleString(options.locale, {
          dateStyle: 'short',
          timeStyle: 'short',
          timeZone: 'UTC',
        })
      : new Date(time).toLocaleDateString(options.locale, { dateStyle: 'medium', timeZone: 'UTC' });
  // End labels at least a line apart, in the order of the lines' last values, inside the chart.
  const labelY = new Map<TimeSeries, number>();
  const byLastValue = [...series].sort(
    (a, b) => y(a.points[a.points.length - 1]!.value) - y(b.points[b.points.length - 1]!.value),
  );
  let floor = -Infinity;
  for (const line of byLastValue) {
    floor = Math.max(y(line.points[line.points.length - 1]!.value) + 4, floor + 12);
    labelY.set(line, floor);
  }
  let ceiling = height - 4;
  for (const line of byLastValue.reverse()) {
    const placed = Math.min(labelY.get(line)!, ceiling);
    labelY.set(line, placed);
    ceiling = placed - 12;
  }
  const lines = series.map((line, index) => {
    const color = seriesPalette[index % seriesPalette.length];
    const path = line.points
      .map(
        (point, i) =>
          `${i === 0 ? 'M' : 'L'}${x(point.at.getTime()).toFixed(1)},${y(point.value).toFixed(1)}`,
      )
      .join(' ');
    const last = line.points[line.points.length - 1]!;
    return html`<g class="series" style="color:${color}"><title>${line.label}</title><path d="${path}"></path>${line.points.map(
      (point) =>
        html`<circle cx="${x(point.at.getTime()).toFixed(1)}" cy="${y(point.value).toFixed(1)}" r="3"><title>${line.label}, ${day(point.at.getTime())}: ${number(point.value, options.locale)}</title></circle>`,
    )}<text x="${(x(last.at.getTime()) + 6).toFixed(1)}" y="${labelY.get(line)!.toFixed(1)}">${truncate(line.label, 20)}</text></g>`;
  });
  return svgRoot(
    { className: 'line-chart', width, height, title: options.title },
    html`<g class="axis">
      <line x1="${margin.left}" y1="${margin.top + plotHeight}" x2="${margin.left + plotWidth}" y2="${margin.top + plotHeight}"></line>
      <line x1="${margin.left}" y1="${margin.top}" x2="${margin.left}" y2="${margin.top + plotHeight}"></line>
      <text x="${margin.left - 6}" y="${margin.top + 4}" text-anchor="end">${number(top, options.locale)}</text>
      <text x="${margin.left - 6}" y="${margin.top + plotHeight}" text-anchor="end">${number(bottom, options.locale)}</text>
      <text x="${margin.left}" y="${height - 8}">${day(t0)}</text>
      <text x="${margin.left + plotWidth}" y="${height - 8}" text-anchor="end">${day(t1)}</text>
    </g>
    ${lines}`,
  );
}
