package org.memwall.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.memwall.MemwallException;

class SweepTest {
    private static final Workload W = new Workload(ModelSpec.named("llama-3.1-70b"), WeightType.parse("fp8"), KvType.FP8, 1000, 1000, 0,
            Double.NaN, 0.45, 0.04);
    private static final Deployment D = new Deployment(Hardware.named("h200"), 2, 2, 1.0, Double.NaN, Efficiency.fitted("datacenter"));

    @Test
    void hbmGenerationsSwapEveryStackAndFasterMemoryDecodesFaster() {
        List<Sweep.Row> rows = Sweep.run("hbm=hbm3,hbm3e,hbm4", W, D);
        assertThat(rows).extracting(Sweep.Row::value).containsExactly("hbm3", "hbm3e", "hbm4");
        // The H200's six stacks: HBM3 at 819 GB/s and 24 GB each, HBM4 at 2 TB/s and 48 GB each.
        assertThat(rows.get(0).hardware().bandwidth()).isEqualTo(6 * 0.819e12);
        assertThat(rows.get(2).hardware().memoryBytes()).isEqualTo(6 * 48_000_000_000L);
        double[] decode = rows.stream().mapToDouble(r -> r.plan().decodeTokensPerS()).toArray();
        assertThat(decode[0]).isLessThan(decode[1]);
        assertThat(decode[1]).isLessThan(decode[2]);
        assertThat(Sweep.values("hbm", W, D)).containsExactlyElementsOf(Hardware.hbmGenerations());
    }

    @Test
    void fewerBitsPerWeightLeaveMoreRoomAndReadFewerBytes() {
        List<Sweep.Row> rows = Sweep.run("type", W, D);
        assertThat(rows).extracting(Sweep.Row::value).containsExactly("bf16", "fp8", "fp4");
        Plan bf16 = rows.get(0).plan();
        Plan fp4 = rows.get(2).plan();
        assertThat(fp4.weightBytesPerDevice()).isLessThan(bf16.weightBytesPerDevice() / 3);
        assertThat(fp4.memoryMaxConcurrency()).isGreaterThan(bf16.memoryMaxConcurrency());
        assertThat(fp4.decodeTokensPerS()).isGreaterThan(bf16.decodeTokensPerS());
    }

    @Test
    void aLargerBatchServesMoreTokensAtALongerTimePerToken() {
        List<Sweep.Row> rows = Sweep.run("batch=1,16,256", W, D);
        for (int i = 1; i < rows.size(); i++) {
            assertThat(rows.get(i).plan().outputTokensPerS()).isGreaterThan(rows.get(i - 1).plan().outputTokensPerS());
            assertThat(rows.get(i).plan().tpotS()).isGreaterThan(rows.get(i - 1).plan().tpotS());
        }
        assertThat(rows).allSatisfy(r -> assertThat(r.plan().replicas()).isEqualTo(1));
        assertThat(rows.get(2).plan().concurrency()).isEqualTo(256);
    }

    @Test
    void aLongerPromptHoldsProportionallyMoreKv() {
        List<Sweep.Row> rows = Sweep.run("context=1000,9000", W, D);
        // KV per sequence covers prompt + output: 2,000 and 10,000 positions.
        assertThat((double) rows.get(1).plan().kvBytesPerSequence() / rows.get(0).plan().kvBytesPerSequence()).isCloseTo(5.0,
                org.assertj.core.api.Assertions.within(1e-6));
        assertThat(Sweep.values("context", W, D)).containsExactly("1024", "4096", "16384", "65536");
    }

    @Test
    void badSweepsNameTheProblem() {
        assertThatThrownBy(() -> Sweep.run("clock=1,2", W, D)).isInstanceOf(MemwallException.class).hasMessageContaining("unknown sweep 'clock'");
        assertThatThrownBy(() -> Sweep.run("batch=0", W, D)).isInstanceOf(MemwallException.class).hasMessageContaining("'0'");
        assertThatThrownBy(() -> Sweep.run("hbm=hbm5", W, D)).isInstanceOf(MemwallException.class).hasMessageContaining("unknown memory generation 'hbm5'");
        assertThatThrownBy(() -> Sweep.run("batch=", W, D)).isInstanceOf(MemwallException.class).hasMessageContaining("lists no values");
    }
}
