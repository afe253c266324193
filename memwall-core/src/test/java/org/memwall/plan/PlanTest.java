package org.memwall.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;
import org.memwall.MemwallException;

class PlanTest {
    private static Workload workload(String model, String type, int concurrency, double ttft, double tpot) {
        return new Workload(ModelSpec.named(model), WeightType.parse(type), KvType.BF16, 1000, 1000, concurrency, Double.NaN, ttft, tpot);
    }

    private static Deployment on(String hw, int count, int tp) {
        return new Deployment(Hardware.named(hw), count, tp, 1.2, 3.0, Efficiency.IDEAL);
    }

    @Test
    void aModelTooLargeForItsDevicesSaysByHowMuchAndFitsWhenSplit() {
        Plan one = Plan.of(workload("llama-3.1-405b", "bf16", 0, Double.NaN, Double.NaN), on("h200", 1, 1));
        assertThat(one.fits()).isFalse();
        assertThat(one.maxConcurrency()).isZero();
        // 405.85e9 BF16 weights are 811.7 GB against 141 GB: at least 670 GB short.
        assertThat(one.memoryShortfallBytes()).isGreaterThan(670_000_000_000L);
        Plan eight = Plan.of(workload("llama-3.1-405b", "bf16", 0, Double.NaN, Double.NaN), on("h200", 8, 8));
        assertThat(eight.fits()).isTrue();
        assertThat(eight.weightBytesPerDevice()).isBetween(101_000_000_000L, 102_000_000_000L);
        assertThat(eight.memoryBytesPerDevice()).isLessThanOrEqualTo(141_000_000_000L);
    }

    @Test
    void maxConcurrencyIsTheLastLoadThatMeetsTheTargets() {
        Workload w = workload("llama-3.1-70b", "fp8", 0, 0.45, 0.040);
        Plan p = Plan.of(w, on("h200", 2, 2));
        assertThat(p.maxConcurrency()).isPositive();
        assertThat(p.ttftS()).isLessThanOrEqualTo(0.45);
        assertThat(p.tpotS()).isLessThanOrEqualTo(0.040);
        Workload more = new Workload(w.model(), w.weights(), w.kv(), 1000, 1000, p.maxConcurrency() + 1, Double.NaN, 0.45, 0.040);
        Plan over = Plan.of(more, on("h200", 2, 2));
        assertThat(over.meetsTargets()).isFalse();
        assertThat(over.tpotS() > 0.040 || over.ttftS() > 0.45 || over.concurrency() > over.memoryMaxConcurrency()).isTrue();
    }

    @Test
    void aLoadLargerThanOneReplicaIsSpreadOverEnoughReplicas() {
        Plan one = Plan.of(workload("llama-3.1-8b", "fp8", 0, 0.45, 0.040), on("h200", 0, 1));
        int max = one.maxConcurrency();
        Plan p = Plan.of(workload("llama-3.1-8b", "fp8", 5 * max + 1, 0.45, 0.040), on("h200", 0, 1));
        assertThat(p.replicas()).isEqualTo(6);
        assertThat(p.devices()).isEqualTo(6);
        assertThat(p.meetsTargets()).isTrue();
    }

    @Test
    void powerEnergyAndCostFollowFromTheDevicesAndTheTokens() {
        Plan p = Plan.of(workload("llama-3.1-8b", "bf16", 0, Double.NaN, Double.NaN), on("h200", 4, 2));
        assertThat(p.devices()).isEqualTo(4);
        assertThat(p.powerW()).isEqualTo(4 * 700 * 1.2); // board power · devices · PUE
        assertThat(p.joulesPerToken()).isCloseTo(p.powerW() / p.outputTokensPerS(), within(1e-12));
        assertThat(p.usdPerMillionTokens()).isCloseTo(4 * 3.0 / (p.outputTokensPerS() * 3600) * 1e6, within(1e-9));
        assertThat(p.toJson()).contains("\"fits\": true", "\"devices\": 4", "\"max_concurrency\": ", "\"output_tokens_per_s\": ",
                "\"joules_per_token\": ", "\"usd_per_million_tokens\": ", "\"memory_bytes_per_device\": ", "\"prefill_tokens_per_s\": ");
    }

    @Test
    void badInputNamesTheProblem() {
        assertThatThrownBy(() -> on("h200", 3, 2)).isInstanceOf(MemwallException.class).hasMessageContaining("not a multiple of --tp 2");
        assertThatThrownBy(() -> Hardware.named("h300")).isInstanceOf(MemwallException.class).hasMessageContaining("h200").hasMessageContaining("rngd");
        assertThatThrownBy(() -> new Workload(ModelSpec.named("llama-2-7b"), WeightType.parse("bf16"), KvType.BF16, 4000, 1000, 0, Double.NaN,
                Double.NaN, Double.NaN)).isInstanceOf(MemwallException.class).hasMessageContaining("context of 4096");
        assertThatThrownBy(() -> WeightType.parse("int3")).isInstanceOf(MemwallException.class).hasMessageContaining("unknown weight type 'int3'");
    }

    @Test
    void everyCatalogNumberCarriesASourceAndACheck() {
        for (String id : Hardware.ids()) {
            Hardware h = Hardware.named(id);
            assertThat(h.sources()).as(id).containsKeys("memory_gb", "bandwidth_tbps", "bf16_tflops");
            assertThat(h.sources().values()).allSatisfy(s -> assertThat(s.text()).isNotBlank());
        }
        Hardware h200 = Hardware.named("h200");
        assertThat(h200.memoryBytes()).isEqualTo(141_000_000_000L);
        assertThat(h200.bandwidth()).isEqualTo(4.8e12);
        Hardware hbm4 = h200.withMemory(Hardware.hbm("hbm4"));
        assertThat(hbm4.bandwidth()).isEqualTo(6 * 2.0e12); // six stacks at 2 TB/s (JESD270-4)
    }
}
