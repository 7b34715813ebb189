// Benchmark-only peer: runs one ONNX file on ONNX Runtime (onnxruntime-node,
// CPU execution provider) and prints one JSON line with its throughput.
// usage: node ort_bench.js MODEL.onnx --batch B --threads T --seconds S [--warmup W]
'use strict';
const ort = require('onnxruntime-node');

function arg(name, def) {
  const i = process.argv.indexOf('--' + name);
  return i > 0 ? process.argv[i + 1] : def;
}

async function main() {
  const file = process.argv[2];
  const batch = parseInt(arg('batch', '1'), 10);
  const threads = parseInt(arg('threads', '1'), 10);
  const seconds = parseFloat(arg('seconds', '3'));
  const warmup = parseInt(arg('warmup', '3'), 10);
  const size = parseInt(arg('size', '224'), 10);
  const session = await ort.InferenceSession.create(file, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const inputName = session.inputNames[0];
  const n = batch * 3 * size * size;
  const data = new Float32Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) { s = (s * 1103515245 + 12345) & 0x7fffffff; data[i] = s / 0x7fffffff - 0.5; }
  const feeds = { [inputName]: new ort.Tensor('float32', data, [batch, 3, size, size]) };
  for (let i = 0; i < warmup; i++) await session.run(feeds);
  const lat = [];
  const t0 = process.hrtime.bigint();
  let t = t0;
  while (Number(t - t0) / 1e9 < seconds || lat.length < 3) {
    const a = process.hrtime.bigint();
    await session.run(feeds);
    t = process.hrtime.bigint();
    lat.push(Number(t - a) / 1e6);
  }
  const wall = Number(t - t0) / 1e9;
  lat.sort((x, y) => x - y);
  console.log(JSON.stringify({
    engine: 'onnxruntime-node ' + (ort.env.versions ? ort.env.versions.common : ''),
    model: file, batch, threads, batches: lat.length, seconds: wall,
    images_per_s: lat.length * batch / wall, median_ms: lat[Math.floor(lat.length / 2)],
  }));
}
main().catch((e) => { console.error('ort_bench: ' + e.message); process.exit(1); });
