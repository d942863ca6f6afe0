/**
 * Log-log line charts as a standalone SVG document, written as plain text
 * (no dependency): message size on x in powers of two, the figure on y in
 * powers of ten, labelled axes, a curve per series (several runs overlaid:
 * --compare) and a legend naming each. Points that a log scale cannot show
 * (size 0, a zero figure) are left out.
 */

export interface Series {
  name: string;
  points: Array<{ x: number; y: number }>;
}

export interface Chart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
}

const WIDTH = 720;
const HEIGHT = 480;
const MARGIN = { left: 80, right: 24, top: 48, bottom: 64 };
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** "512", "4K", "1M": sizes as people read them on OSU plots. */
export function sizeLabel(bytes: number): string {
  if (bytes >= 1 << 30 && bytes % (1 << 30) === 0) return `${bytes / (1 << 30)}G`;
  if (bytes >= 1 << 20 && bytes % (1 << 20) === 0) return `${bytes / (1 << 20)}M`;
  if (bytes >= 1 << 10 && bytes % (1 << 10) === 0) return `${bytes / (1 << 10)}K`;
  return String(bytes);
}

function figureLabel(value: number): string {
  const exponent = Math.round(Math.log10(value));
  return exponent >= 0 && exponent <= 6 ? String(10 ** exponent) : `1e${exponent}`;
}

/** A log scale mapping [lo, hi] (powers of `base` bracketing the data) onto [from, to]. */
export interface LogScale {
  lo: number;
  hi: number;
  map(value: number): number;
  ticks: number[];
}

export function logScale(values: number[], base: number, from: number, to: number): LogScale {
  const logs = values.map((v) => Math.log(v) / Math.log(base));
  let loExp = Math.floor(Math.min(...logs));
  let hiExp = Math.ceil(Math.max(...logs));
  if (hiExp === loExp) {
    loExp -= 1;
    hiExp += 1;
  }
  const lo = base ** loExp;
  const hi = base ** hiExp;
  // Long ranges get every other (or fewer) tick so labels do not collide.
  const step = Math.max(1, Math.ceil((hiExp - loExp) / 12));
  const ticks: number[] = [];
  for (let e = loExp; e <= hiExp; e += step) ticks.push(base ** e);
  const span = hiExp - loExp;
  return { lo, hi, ticks, map: (v) => from + ((Math.log(v) / Math.log(base) - loExp) / span) * (to - from) };
}

/** One chart as a standalone SVG document. */
export function chartSvg(chart: Chart): string {
  return chartsSvg([chart]);
}

/**
 * Several charts one above the other in one document (bench:compare's
 * latency and bandwidth): each is drawn as chartSvg draws one, shifted down.
 * Each series is one <path> (its curve) with a circle per point, and one
 * legend entry in the top-left corner of its chart.
 */
export function chartsSvg(charts: readonly Chart[]): string {
  const height = HEIGHT * charts.length;
  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${height}" fill="white"/>`,
  ];
  charts.forEach((chart, i) => {
    out.push(i === 0 ? '<g>' : `<g transform="translate(0 ${i * HEIGHT})">`, ...chartElements(chart), '</g>');
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

function chartElements(chart: Chart): string[] {
  const series = chart.series.map((s) => ({ ...s, points: s.points.filter((p) => p.x > 0 && p.y > 0 && Number.isFinite(p.y)) }));
  const all = series.flatMap((s) => s.points);
  const out: string[] = [
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="15">${escapeXml(chart.title)}</text>`,
  ];
  const left = MARGIN.left;
  const right = WIDTH - MARGIN.right;
  const top = MARGIN.top;
  const bottom = HEIGHT - MARGIN.bottom;
  if (all.length === 0) {
    out.push(`<text x="${WIDTH / 2}" y="${HEIGHT / 2}" text-anchor="middle">no point to draw on log scales (sizes and figures must be above 0)</text>`);
    return out;
  }
  const x = logScale(all.map((p) => p.x), 2, left, right);
  const y = logScale(all.map((p) => p.y), 10, bottom, top);
  out.push(`<rect x="${left}" y="${top}" width="${right - left}" height="${bottom - top}" fill="none" stroke="black"/>`);
  for (const tick of x.ticks) {
    const px = x.map(tick).toFixed(1);
    out.push(`<line x1="${px}" y1="${top}" x2="${px}" y2="${bottom}" stroke="#ddd"/>`,
      `<text x="${px}" y="${bottom + 16}" text-anchor="middle">${sizeLabel(tick)}</text>`);
  }
  for (const tick of y.ticks) {
    const py = y.map(tick).toFixed(1);
    out.push(`<line x1="${left}" y1="${py}" x2="${right}" y2="${py}" stroke="#ddd"/>`,
      `<text x="${left - 6}" y="${py}" text-anchor="end" dominant-baseline="middle">${figureLabel(tick)}</text>`);
  }
  out.push(`<text x="${(left + right) / 2}" y="${HEIGHT - 20}" text-anchor="middle">${escapeXml(chart.xLabel)}</text>`,
    `<text x="20" y="${(top + bottom) / 2}" text-anchor="middle" transform="rotate(-90 20 ${(top + bottom) / 2})">${escapeXml(chart.yLabel)}</text>`);
  series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length]!;
    const coords = s.points.map((p) => [x.map(p.x).toFixed(1), y.map(p.y).toFixed(1)] as const);
    if (coords.length > 0) {
      const d = coords.map(([cx, cy], j) => `${j === 0 ? 'M' : 'L'}${cx},${cy}`).join(' ');
      out.push(`<path fill="none" stroke="${colour}" stroke-width="2" d="${d}"/>`);
    }
    for (const [cx, cy] of coords) out.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="${colour}"/>`);
  });
  // The legend goes over the curves, on a white box, so that a curve running under it hides no name.
  const longest = Math.max(...series.map((s) => s.name.length));
  out.push(`<rect x="${left + 4}" y="${top + 4}" width="${40 + Math.ceil(longest * 6.5)}" height="${series.length * 16 + 8}" fill="white" fill-opacity="0.85" stroke="#999"/>`);
  series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length]!;
    const ly = top + 16 + i * 16;
    out.push(`<line x1="${left + 10}" y1="${ly}" x2="${left + 30}" y2="${ly}" stroke="${colour}" stroke-width="2"/>`,
      `<text x="${left + 36}" y="${ly}" dominant-baseline="middle">${escapeXml(s.name)}</text>`);
  });
  return out;
}
