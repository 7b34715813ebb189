// Cross-check: the same ONNX file on ONNX Runtime and on zenith (through the
// CLI, `zenith run --input/--save-output`), on one seeded input. Prints max
// absolute and relative error of the logits and top-1 agreement per image.
// usage: node ort_check.js ZENITH_BIN MODEL.onnx [--backend B] [--batch N] [--size S]
'use strict';
const ort = require('onnxruntime-node');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');

function arg(name, def) { const i = process.argv.indexOf('--' + name); return i > 0 ? process.argv[i + 1] : def; }

// Minimal TensorProto codec: dims (1, varint), data_type (2), raw_data (9).
function varint(n) { const b = []; while (n > 127) { b.push((n & 127) | 128); n = Math.floor(n / 128); } b.push(n); return b; }
function encodeTensor(dims, f32) {
  const parts = [];
  for (const d of dims) parts.push(Buffer.from([0x08, ...varint(d)]));
  parts.push(Buffer.from([0x10, 1]));
  const raw = Buffer.from(f32.buffer, f32.byteOffset, f32.byteLength);
  parts.push(Buffer.from([0x4a, ...varint(raw.length)]), raw);
  return Buffer.concat(parts);
}
function decodeTensorRaw(buf) {
  let i = 0; const dims = []; let raw = null;
  const rv = () => { let x = 0, m = 1, c; do { c = buf[i++]; x += (c & 127) * m; m *= 128; } while (c & 128); return x; };
  while (i < buf.length) {
    const key = rv(), field = key >> 3, wt = key & 7;
    if (wt === 0) { const v = rv(); if (field === 1) dims.push(v); }
    else if (wt === 2) { const n = rv(); if (field === 9) raw = buf.subarray(i, i + n); else if (field === 1) { const e = i + n; while (i < e) dims.push(rv()); } i += n; }
    else if (wt === 5) i += 4; else if (wt === 1) i += 8; else throw new Error('bad wire type');
  }
  const copy = Buffer.from(raw);
  return { dims, data: new Float32Array(copy.buffer, copy.byteOffset, copy.length / 4) };
}

async function main() {
  const zenith = process.argv[2], file = process.argv[3];
  const backend = arg('backend', 'ref'), batch = parseInt(arg('batch', '2'), 10), size = parseInt(arg('size', '224'), 10);
  const n = batch * 3 * size * size, x = new Float32Array(n);
  let s = 2024;
  for (let i = 0; i < n; i++) { s = (s * 1103515245 + 12345) % 2147483648; x[i] = (s / 2147483648) * 4 - 2; }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zn-ortcheck-'));
  try {
    const inPb = path.join(dir, 'input_0.pb'), outPb = path.join(dir, 'output_0.pb');
    fs.writeFileSync(inPb, encodeTensor([batch, 3, size, size], x));
    execFileSync(zenith, ['run', '--model', file, '--input', inPb, '--save-output', outPb, '--backend', backend, '--batch', String(batch)], { stdio: ['ignore', 'ignore', 'inherit'] });
    const zn = decodeTensorRaw(fs.readFileSync(outPb));
    const sess = await ort.InferenceSession.create(file, { intraOpNumThreads: 2 });
    const r = await sess.run({ [sess.inputNames[0]]: new ort.Tensor('float32', x, [batch, 3, size, size]) });
    const o = r[sess.outputNames[0]].data;
    const classes = o.length / batch;
    let maxAbs = 0, maxLogit = 0, agree = 0;
    for (let b = 0; b < batch; b++) {
      let ai = 0, bi = 0;
      for (let k = 0; k < classes; k++) {
        const i = b * classes + k;
        maxAbs = Math.max(maxAbs, Math.abs(o[i] - zn.data[i]));
        maxLogit = Math.max(maxLogit, Math.abs(o[i]));
        if (o[i] > o[b * classes + ai]) ai = k;
        if (zn.data[i] > zn.data[b * classes + bi]) bi = k;
      }
      if (ai === bi) agree++;
    }
    console.log(JSON.stringify({ model: path.basename(file), backend, batch, max_abs_err: maxAbs, max_abs_logit: maxLogit,
      rel_err_of_max_logit: maxAbs / maxLogit, top1_agree: `${agree}/${batch}` }));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
main().catch((e) => { console.error('ort_check: ' + e.message); process.exit(1); });
