// llama.cpp's speed on a GGUF file, measured the way `memwall bench` measures memwall's: a prefill of
// P random prompt tokens in one batch, then N greedy decode steps, 2 threads, repeated R times.
// llama.cpp comes from node-llama-cpp's prebuilt CPU binaries, which pick the build for this CPU
// (AVX2, AVX-512, ...) at load time.
//
//   npm install            (once, in this directory)
//   node bench.mjs -m FILE [-p 512] [-n 128] [-t 2] [-r 3]
import {existsSync} from "node:fs";
import {getLlama} from "node-llama-cpp";

function parse(argv) {
    const o = {p: 512, n: 128, t: 2, r: 3};
    for (let i = 0; i < argv.length; i += 2) {
        const key = argv[i].replace(/^-+/, ""), value = argv[i + 1];
        if (value === undefined) throw new Error(`${argv[i]} needs a value`);
        if (key === "m") o.m = value;
        else if (["p", "n", "t", "r"].includes(key) && /^[1-9][0-9]*$/.test(value)) o[key] = Number(value);
        else throw new Error(`unknown or invalid option ${argv[i]} ${value}`);
    }
    if (!o.m) throw new Error("usage: node bench.mjs -m FILE [-p 512] [-n 128] [-t 2] [-r 3]");
    if (!existsSync(o.m)) throw new Error(`no such model file: ${o.m}`);
    return o;
}

const median = xs => {
    const s = [...xs].sort((a, b) => a - b), m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const range = xs => `min ${Math.min(...xs).toFixed(2)}, max ${Math.max(...xs).toFixed(2)}`;

let o;
try {
    o = parse(process.argv.slice(2));
} catch (e) {
    console.error(e.message);
    process.exit(2);
}
const llama = await getLlama({gpu: false, build: "never", logLevel: "error"});
let model;
try {
    model = await llama.loadModel({modelPath: o.m, gpuLayers: 0, useMmap: true});
} catch (e) {
    console.error(`llama.cpp could not load ${o.m}: ${e.message}`);
    process.exit(1);
}
const prefill = [], decode = [];
for (let r = 0; r < o.r + 1; r++) { // the first round warms up and is not counted
    const context = await model.createContext({contextSize: o.p + o.n + 16, threads: o.t, batchSize: Math.min(512, o.p), sequences: 1});
    const sequence = context.getSequence();
    const prompt = Array.from({length: o.p}, (_, i) => 1000 + ((i * 7919 + r * 31) % 100000));
    const t0 = performance.now();
    await sequence.evaluateWithoutGeneratingNewTokens(prompt);
    const t1 = performance.now();
    // Each evaluate step decodes one token: the first yield follows the step that consumes the last
    // prompt token again, so time from the first yield to the n-th after it: n decode steps.
    let generated = 0, first = 0;
    for await (const token of sequence.evaluate([prompt[o.p - 1]], {temperature: 0})) {
        if (generated === 0) first = performance.now();
        if (generated++ === o.n) break;
    }
    const t2 = performance.now();
    await context.dispose();
    if (r > 0) {
        prefill.push(o.p / (t1 - t0) * 1000);
        decode.push(o.n / (t2 - first) * 1000);
    }
}
console.log(`llama.cpp through node-llama-cpp, ${o.t} threads`);
console.log(`model:            ${o.m}`);
console.log(`prefill (pp${o.p}):  ${median(prefill).toFixed(1)} tokens/s (${range(prefill)})`);
console.log(`decode (tg${o.n}):    ${median(decode).toFixed(2)} tokens/s (${range(decode)})`);
