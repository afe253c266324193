package org.memwall.cuda;

import java.util.IdentityHashMap;
import java.util.Map;
import org.memwall.model.ModelConfig;
import org.memwall.model.Rope;
import org.memwall.model.Weights;
import org.memwall.tensor.Tensor;

/**
 * A model's weights in device memory: matrices in their file format (or Q8_0 where no kernel reads
 * theirs), norms, biases and sinks as float32, RoPE's per-pair tables as float64. Pointers are 0
 * where the family has no such tensor.
 */
final class DeviceWeights {
    final DeviceMatrix tokenEmbedding;
    final DeviceMatrix output;
    final long outputNorm;
    final long ropeInvFreq;
    final long ropeRamp;
    final Layer[] layers;

    record Layer(long attnNorm, DeviceMatrix wq, DeviceMatrix wk, DeviceMatrix wv, DeviceMatrix wo,
                 long bq, long bk, long bv, long bo, long qNorm, long kNorm, long sinks, long postAttnNorm,
                 long ffnNorm, DeviceMatrix gate, DeviceMatrix up, DeviceMatrix down, long postFfnNorm,
                 DeviceMatrix router, long routerBias, DeviceMatrix gateExps, DeviceMatrix upExps, DeviceMatrix downExps,
                 long gateExpsBias, long upExpsBias, long downExpsBias) {
    }

    private DeviceWeights(DeviceMatrix tokenEmbedding, DeviceMatrix output, long outputNorm, long ropeInvFreq, long ropeRamp, Layer[] layers) {
        this.tokenEmbedding = tokenEmbedding;
        this.output = output;
        this.outputNorm = outputNorm;
        this.ropeInvFreq = ropeInvFreq;
        this.ropeRamp = ropeRamp;
        this.layers = layers;
    }

    static DeviceWeights upload(Uploader up, Weights w, ModelConfig c, Rope rope) {
        Map<Tensor, DeviceMatrix> done = new IdentityHashMap<>();
        java.util.function.Function<Tensor, DeviceMatrix> m = t -> t == null ? null : done.computeIfAbsent(t, up::matrix);
        Layer[] layers = new Layer[c.blockCount()];
        for (int il = 0; il < layers.length; il++) {
            Weights.Layer l = w.layers[il];
            layers[il] = new Layer(up.floats(l.attnNorm()), m.apply(l.wq()), m.apply(l.wk()), m.apply(l.wv()), m.apply(l.wo()),
                    up.floats(l.bq()), up.floats(l.bk()), up.floats(l.bv()), up.floats(l.bo()),
                    up.floats(l.qNorm()), up.floats(l.kNorm()), up.floats(l.sinks()), up.floats(l.postAttnNorm()),
                    up.floats(l.ffnNorm()), m.apply(l.gate()), m.apply(l.up()), m.apply(l.down()), up.floats(l.postFfnNorm()),
                    m.apply(l.router()), up.floats(l.routerBias()), m.apply(l.gateExps()), m.apply(l.upExps()), m.apply(l.downExps()),
                    up.floats(l.gateExpsBias()), up.floats(l.upExpsBias()), up.floats(l.downExpsBias()));
        }
        DeviceMatrix embd = m.apply(w.tokenEmbedding);
        DeviceMatrix out = m.apply(w.output);
        DeviceWeights dw = new DeviceWeights(embd, out, up.floats(w.outputNorm), up.doubles(rope.inverseFrequencies()), up.doubles(rope.ramp()), layers);
        up.finish();
        return dw;
    }
}
