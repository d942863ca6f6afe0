import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chartSvg, chartsSvg, escapeXml, logScale, sizeLabel } from '../../src/bench/svg.js';

/** A small XML well-formedness check: every tag closes in order, attributes quoted. */
function assertWellFormed(xml: string): void {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0;
  for (let m = tag.exec(body); m !== null; m = tag.exec(body)) {
    assert.doesNotMatch(body.slice(last, m.index), /[<>]/, `stray markup before ${m[0]}`);
    last = tag.lastIndex;
    const [, closing, name, , selfClosing] = m;
    if (closing) assert.equal(stack.pop(), name, `</${name}> closes what it did not open`);
    else if (!selfClosing) stack.push(name!);
  }
  assert.doesNotMatch(body.slice(last), /[<>]/);
  assert.deepEqual(stack, [], 'every element closed');
}

const chart = {
  title: 'OSU MPI Latency Test <mpi4ts> & "friends"',
  xLabel: 'Message size (bytes)',
  yLabel: 'Latency (us)',
  series: [
    { name: 'typed', points: [{ x: 0, y: 5 }, { x: 1, y: 2 }, { x: 1024, y: 20 }, { x: 4 * 1024 * 1024, y: 2000 }] },
    { name: 'object', points: [{ x: 1, y: 3 }, { x: 1024, y: 0 }] },
  ],
};

test('the SVG is well-formed, labelled, and escapes text', () => {
  const svg = chartSvg(chart);
  assertWellFormed(svg);
  assert.match(svg, /<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg, /OSU MPI Latency Test &lt;mpi4ts&gt; &amp; &quot;friends&quot;/);
  assert.match(svg, />Message size \(bytes\)</);
  assert.match(svg, />Latency \(us\)</);
  assert.match(svg, />typed</);
  assert.match(svg, />object</);
});

test('points a log scale cannot show (size 0, figure 0) are left out', () => {
  const svg = chartSvg(chart);
  assert.equal(svg.match(/<circle /g)?.length, 4, '3 typed points with x > 0, 1 object point with y > 0');
  const empty = chartSvg({ ...chart, series: [{ name: 'zero', points: [{ x: 0, y: 1 }] }] });
  assertWellFormed(empty);
  assert.match(empty, /no point to draw on log scales/);
});

test('log scales: equal ratios are equal distances, ticks at powers of the base', () => {
  const x = logScale([1, 4 * 1024 * 1024], 2, 0, 220);
  assert.equal(x.lo, 1);
  assert.equal(x.hi, 2 ** 22);
  assert.ok(Math.abs((x.map(4) - x.map(2)) - (x.map(2048) - x.map(1024))) < 1e-9);
  assert.equal(x.map(1), 0);
  assert.equal(x.map(2 ** 22), 220);
  for (const tick of x.ticks) assert.ok(Number.isInteger(Math.log2(tick)));
  assert.ok(x.ticks.length <= 13, 'no more than a dozen labels');
  const y = logScale([0.5, 30], 10, 400, 0);
  assert.equal(y.lo, 0.1);
  assert.equal(y.hi, 100);
  assert.deepEqual(y.ticks, [0.1, 1, 10, 100]);
  assert.ok(y.map(10) < y.map(1), 'y grows upwards');
  const flat = logScale([8, 8], 2, 0, 100);
  assert.ok(flat.lo < 8 && flat.hi > 8, 'a single value still gets a range');
});

test('size labels read as OSU plots do', () => {
  assert.deepEqual([1, 512, 1024, 65536, 1 << 20, 4 << 20, 1 << 30].map(sizeLabel), ['1', '512', '1K', '64K', '1M', '4M', '1G']);
  assert.equal(escapeXml(`<a href='x'>&</a>`), '&lt;a href=&apos;x&apos;&gt;&amp;&lt;/a&gt;');
});

test('several charts in one document, one below the other, each with its own paths and legend', () => {
  const bandwidth = { ...chart, title: 'Bandwidth', yLabel: 'Bandwidth (MB/s)', series: [{ name: 'bw', points: [{ x: 1, y: 10 }, { x: 2, y: 20 }] }] };
  const svg = chartsSvg([chart, bandwidth]);
  assertWellFormed(svg);
  assert.match(svg, /<svg [^>]*height="960" viewBox="0 0 720 960"/);
  assert.match(svg, /<g transform="translate\(0 480\)">\n<text [^>]*>Bandwidth<\/text>/);
  assert.equal(svg.match(/<path /g)?.length, 3, 'two series in the first chart, one in the second');
  assert.match(svg, />bw<\/text>/);
  assertWellFormed(chartSvg(chart));
});
