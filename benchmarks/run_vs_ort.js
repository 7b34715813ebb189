#!/usr/bin/env node
// zenith vs ONNX Runtime on the same ONNX files, interleaved in one run.
// For each model: export it from the zoo once (or take the file given), then for R rounds run every
// configuration on zenith and on ONNX Runtime back to back (alternating
// which goes first), and report medians, ratios, GFLOP/s and % of the peak.
// usage: node benchmarks/run_vs_ort.js --build build [--models a,b] [--rounds 5]
//        [--seconds 3] [--batches 1,8,32] [--threads 1,2] [--backend onednn] [--peak GFLOPS]
// A model is a zoo name, or a path to an .onnx file with a 3xSxS image input
// (S from --size, default 224; a file named model.onnx is named after its folder).
// Configurations: every batch on one instance of each thread count ("b8 1x1thr",
// "b8 1x2thr"), then two 1-thread instances at batch 1 ("b1 2x1thr": two
// processes for ORT, two instances in one process for zenith).
// --peak: the 2-thread fp32 peak that "% of peak" divides by; default: measured
// now by build/bench_peak (FMA chains in registers), and 343 (the issue's
// figure, its oneDNN single-layer probes) is printed beside it.
//        [--configs "b1 1x2thr,b1 2x1thr"] [--out results.json]
'use strict';
const { execFileSync, spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

function arg(name, def) {
  const i = process.argv.indexOf('--' + name);
  return i > 0 ? process.argv[i + 1] : def;
}
const build = arg('build', 'build');
const rounds = parseInt(arg('rounds', '5'), 10);
const seconds = arg('seconds', '3');
const backend = arg('backend', 'onednn');
const precision = arg('precision', 'fp32');
const ISSUE_PEAK = 343;
let peak2 = parseFloat(arg('peak', '0'));
const batches = arg('batches', '1,8,32').split(',').map(Number);
const threadCounts = arg('threads', '1,2').split(',').map(Number);
const models = arg('models', 'alexnet,densenet161,inception_v3,mobilenet_v1,mobilenet_v2,resnet18,resnet50,squeezenet1_1,vgg16').split(',');
const outFile = arg('out', '');
const only = arg('configs', '');  // e.g. "b1 1x2thr" to run a subset of the configurations
const ortScript = path.join(__dirname, 'ort', 'ort_bench.js');
const zenith = path.join(build, 'zenith');
const engine = path.join(build, 'bench_engine');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zn-vs-ort-'));

function run(cmd, args) {
  return new Promise((resolve, reject) => {
    // No OMP_WAIT_POLICY=PASSIVE: a 2-thread instance needs its OpenMP workers
    // spinning between primitives, and 1-thread instances form no team.
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.on('close', (code) => code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop())) : reject(new Error(cmd + ' exited ' + code)));
  });
}
// Several processes at once (concurrent 1-thread sessions): summed throughput.
async function concurrent(n, cmd, args) {
  const rs = await Promise.all(Array.from({ length: n }, () => run(cmd, args)));
  return rs.reduce((a, r) => a + r.images_per_s, 0);
}
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

async function main() {
  const report = [];
  if (!(peak2 > 0)) {
    try {
      peak2 = (await run(path.join(build, 'bench_peak'), ['--threads', '2', '--seconds', '0.5'])).gflops;
    } catch (e) {
      peak2 = ISSUE_PEAK;
      console.error(`run_vs_ort: bench_peak failed (${e.message}); % of peak uses ${ISSUE_PEAK} GFLOP/s`);
    }
  }
  console.log(`peak (2 threads, fp32 FMA, measured now): ${peak2.toFixed(0)} GFLOP/s; the issue's reference: ${ISSUE_PEAK}`);
  // zenith asks for transparent huge pages on its blocks of 2 MiB and more; ORT
  // does not, so under "madvise" (Debian's default) only zenith gets them, and
  // under "always" both do: say which held for this run.
  let thp = 'absent';
  try {
    const m = /\[(\w+)\]/.exec(fs.readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'));
    if (m) thp = m[1];
  } catch (e) { /* no THP on this kernel */ }
  console.log(`transparent huge pages: ${thp} (zenith asks for them on its large blocks, ORT does not)`);
  for (const spec of models) {
    let m = spec, file, size;
    if (spec.endsWith('.onnx')) {
      file = spec;
      m = path.basename(spec) === 'model.onnx' ? path.basename(path.dirname(spec)) : path.basename(spec, '.onnx');
      size = Number(arg('size', '224'));
    } else {
      file = path.join(tmp, m + '.onnx');
      execFileSync(zenith, ['zoo', 'export', m, file], { stdio: ['ignore', 'ignore', 'inherit'] });
      size = m === 'inception_v3' ? 299 : 224;
    }
    const configs = [];
    for (const t of threadCounts)
      for (const b of batches) configs.push({ name: `b${b} 1x${t}thr`, batch: b, threads: t, procs: 1 });
    configs.push({ name: 'b1 2x1thr', batch: 1, threads: 1, procs: 2 });
    if (only) configs.splice(0, configs.length, ...configs.filter((c) => only.split(',').includes(c.name)));
    const res = configs.map(() => ({ zn: [], ort: [] }));
    let macs = 0;
    for (let r = 0; r < rounds; r++) {
      for (let c = 0; c < configs.length; c++) {
        const cf = configs[c];
        const znArgs = [file, '--backend', backend, '--precision', precision, '--batch', String(cf.batch), '--threads', String(cf.threads), '--instances', String(cf.procs), '--seconds', seconds];
        const ortArgs = [ortScript, file, '--batch', String(cf.batch), '--threads', String(cf.threads), '--seconds', seconds, '--size', String(size)];
        const order = (r + c) % 2 === 0 ? ['zn', 'ort'] : ['ort', 'zn'];
        for (const who of order) {
          if (who === 'zn') {
            const j = await run(engine, znArgs);
            res[c].zn.push(j.images_per_s);
            macs = j.gflops / j.images_per_s / 2;
          } else {
            res[c].ort.push(await concurrent(cf.procs, 'node', ortArgs));
          }
        }
        process.stderr.write(`\r${m} round ${r + 1}/${rounds} ${cf.name}        `);
      }
    }
    process.stderr.write('\n');
    const rows = configs.map((cf, c) => ({ config: cf.name, zenith: median(res[c].zn), ort: median(res[c].ort), zenith_all: res[c].zn, ort_all: res[c].ort }));
    const bestZn = rows.reduce((a, b) => (b.zenith > a.zenith ? b : a));
    const bestOrt = rows.reduce((a, b) => (b.ort > a.ort ? b : a));
    const b1 = rows.find((x) => x.config === 'b1 1x2thr') || rows[0];
    const entry = { model: m, gmacs: macs, rows, best_zenith: bestZn.config, best_ort: bestOrt.config,
      best_ratio: bestZn.zenith / bestOrt.ort, b1_ratio: b1.zenith / b1.ort,
      best_gflops: bestZn.zenith * 2 * macs, best_pct_peak: 100 * bestZn.zenith * 2 * macs / peak2,
      best_pct_issue_peak: 100 * bestZn.zenith * 2 * macs / ISSUE_PEAK,
      ort_best_pct_peak: 100 * bestOrt.ort * 2 * macs / peak2 };
    report.push(entry);
    console.log(`\n${m}  (${(macs).toFixed(3)} GMACs/image, medians of ${rounds}, img/s)`);
    console.log('  config        zenith      ORT   ratio');
    for (const row of rows) console.log(`  ${row.config.padEnd(12)} ${row.zenith.toFixed(1).padStart(7)} ${row.ort.toFixed(1).padStart(8)}  ${(row.zenith / row.ort).toFixed(2)}x`);
    console.log(`  best: zenith ${bestZn.zenith.toFixed(1)} (${bestZn.config}, ${entry.best_gflops.toFixed(0)} GFLOP/s = ${entry.best_pct_peak.toFixed(0)}% of ${peak2.toFixed(0)}, ${entry.best_pct_issue_peak.toFixed(0)}% of ${ISSUE_PEAK}) vs ORT ${bestOrt.ort.toFixed(1)} (${bestOrt.config}, ${entry.ort_best_pct_peak.toFixed(0)}%) -> ${entry.best_ratio.toFixed(2)}x; batch 1, 2 threads: ${entry.b1_ratio.toFixed(2)}x`);
  }
  console.log('\nsummary: model, best ratio, b1x2thr ratio');
  for (const e of report) console.log(`  ${e.model.padEnd(14)} ${e.best_ratio.toFixed(2)}x  ${e.b1_ratio.toFixed(2)}x`);
  if (outFile) fs.writeFileSync(outFile, JSON.stringify({ backend, precision, rounds, seconds, peak_gflops: peak2, transparent_huge_pages: thp, report }, null, 2));
  fs.rmSync(tmp, { recursive: true, force: true });
}
main().catch((e) => { console.error('run_vs_ort: ' + e.message); process.exit(1); });
