package org.memwall.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.memwall.MemwallException;
import org.memwall.TestModels;
import org.memwall.model.Model;
import org.memwall.synth.SyntheticModel;

class DevicesTest {
    private static final Devices NO_DRIVER = new Devices(() -> {
        throw CudaException.noGpu("no NVIDIA driver: libcuda.so.1 was not found (install the NVIDIA driver to use a GPU)");
    });

    @Test
    void autoFallsBackToTheCpuSayingWhyAndCudaFailsInOneLine() throws Exception {
        List<String> notices = new ArrayList<>();
        try (Model m = Model.open(TestModels.small("llama", SyntheticModel.Mix.Q8_0), 1, NO_DRIVER.backend("auto", notices::add))) {
            assertThat(m.forwardPass()).isSameAs(m.transformer());
        }
        assertThat(notices).as("no driver: quietly the CPU").isEmpty();
        assertThatThrownBy(() -> Model.open(TestModels.small("llama", SyntheticModel.Mix.Q8_0), 1, NO_DRIVER.backend("cuda", notices::add)))
                .isInstanceOf(CudaException.class).hasMessageStartingWith("no NVIDIA driver");
    }

    @Test
    void autoTakesAGpuThatHoldsTheModelAndNotOneThatDoesNot() throws Exception {
        List<String> notices = new ArrayList<>();
        try (Model m = Model.open(TestModels.small("llama", SyntheticModel.Mix.Q8_0), 1, new Devices(() -> new FakeCuda(1L << 30)).backend("auto", notices::add))) {
            assertThat(m.forwardPass().device()).isEqualTo("cuda:0 (memwall FakeCuda)");
        }
        assertThat(notices).isEmpty();
        FakeCuda tiny = new FakeCuda(1L << 20);
        try (Model m = Model.open(TestModels.small("llama", SyntheticModel.Mix.Q8_0), 1, new Devices(() -> tiny).backend("auto", notices::add))) {
            assertThat(m.forwardPass()).isSameAs(m.transformer());
        }
        assertThat(notices).singleElement().asString().startsWith("memwall: running on the CPU (the model needs ");
        assertThat(tiny.usedBytes()).isZero();
    }

    @Test
    void aDeviceThatComputesWronglyIsRefusedAtLoadAndAutoFallsBack() throws Exception {
        // A "GPU" whose Q8_0 matrix kernel is off by 1% in its first output.
        java.util.function.Supplier<CudaDriver> broken = () -> {
            FakeCuda f = new FakeCuda(1L << 30);
            f.afterKernel("matmul_q8_0", (m, a) -> {
                java.lang.foreign.MemorySegment y = m.at(a.pointer(3));
                y.set(java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, y.get(java.lang.foreign.ValueLayout.JAVA_FLOAT, 0) * 1.5f + 1f);
            });
            return f;
        };
        assertThatThrownBy(() -> Model.open(TestModels.small("llama", SyntheticModel.Mix.Q8_0), 1, new Devices(broken).backend("cuda", s -> { })))
                .isInstanceOf(CudaException.class)
                .hasMessageMatching("GPU self-check failed: matmul_q8_0 differs from memwall's CPU reference \\(relative error .*\\); not using cuda:0 \\(memwall FakeCuda\\)");
        List<String> notices = new ArrayList<>();
        try (Model m = Model.open(TestModels.small("llama", SyntheticModel.Mix.Q8_0), 1, new Devices(broken).backend("auto", notices::add))) {
            assertThat(m.forwardPass()).isSameAs(m.transformer());
        }
        assertThat(notices).singleElement().asString().startsWith("memwall: running on the CPU (GPU self-check failed: matmul_q8_0");
    }

    @Test
    void aMissingOrdinalAndAnUnknownDeviceAreNamed() throws Exception {
        Devices fake = new Devices(() -> new FakeCuda(1L << 30));
        assertThatThrownBy(() -> Model.open(TestModels.small("llama", SyntheticModel.Mix.Q8_0), 1, fake.backend("cuda:3", s -> { })))
                .hasMessage("no GPU cuda:3 (1 found: cuda:0)");
        assertThatThrownBy(() -> fake.backend("tpu", s -> { })).isInstanceOf(MemwallException.class)
                .hasMessage("unknown device 'tpu' (use auto, cpu, cuda or cuda:N)");
        assertThat(fake.backend("cpu", s -> { })).isNull();
    }

    @Test
    void describeListsTheDeviceOrSaysWhyThereIsNone() {
        assertThat(NO_DRIVER.describe()).containsExactly("no GPUs: no NVIDIA driver: libcuda.so.1 was not found (install the NVIDIA driver to use a GPU)");
        assertThat(new Devices(() -> new FakeCuda(1L << 30)).describe()).singleElement().asString()
                .startsWith("cuda:0  memwall FakeCuda  compute 9.0  4 SMs  memory 1.0 GiB (1.0 GiB free)  copy ");
    }

    @Test
    void theRealDriverIsAbsentHereOrWorks() {
        // On machines without the NVIDIA driver, loading it must fail with the one-line message, never a crash.
        try {
            NativeCuda cu = NativeCuda.load();
            assertThat(cu.deviceCount()).isGreaterThanOrEqualTo(0);
        } catch (CudaException e) {
            assertThat(e.getMessage()).doesNotContain("\n").isNotBlank();
        }
    }
}
