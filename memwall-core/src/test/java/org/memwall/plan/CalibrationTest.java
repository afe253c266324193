package org.memwall.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

class CalibrationTest {
    private final Calibration calibration = Calibration.load();

    @Test
    void storedFactorsAreWhatTheFitGives() {
        for (String engine : List.of("datacenter", "llama.cpp")) {
            Efficiency stored = Efficiency.fitted(engine);
            Efficiency refit = calibration.fit(engine);
            assertThat(stored.bandwidth()).as(engine).isCloseTo(refit.bandwidth(), within(0.001));
            assertThat(stored.compute()).as(engine).isCloseTo(refit.compute(), within(0.001));
            assertThat(stored.expertCompute()).as(engine).isCloseTo(refit.expertCompute(), within(0.001));
            assertThat(stored.layerSeconds()).as(engine).isCloseTo(refit.layerSeconds(), within(1e-6));
            assertThat(stored.sequenceSeconds()).as(engine).isCloseTo(refit.sequenceSeconds(), within(1e-7));
        }
    }

    @Test
    void heldOutResultsArePredictedWithinTheIssuesBarAtTheMedian() {
        List<Calibration.Error> errors = calibration.errors();
        for (Calibration.Error e : errors) {
            System.out.printf(Locale.ROOT, "%-28s %-8s published %10.3f predicted %10.3f  %+6.1f%%%n", e.c().id(), e.c().fit() ? "fit" : "held-out",
                    e.c().value(), e.predicted(), 100 * e.relative());
        }
        double[] held = errors.stream().filter(e -> !e.c().fit()).mapToDouble(e -> Math.abs(e.relative())).sorted().toArray();
        assertThat(held).hasSizeGreaterThanOrEqualTo(8);
        assertThat(held[held.length / 2]).as("median held-out error, all: " + Arrays.toString(held)).isLessThan(0.25);
    }

    @Test
    void everyFitCaseIsWithinTwentyPercent() {
        for (Calibration.Error e : calibration.errors()) {
            if (e.c().fit()) {
                assertThat(Math.abs(e.relative())).as(e.c().id()).isLessThan(0.20);
            }
        }
    }

    @Test
    void llamaCppDecodeOnOneH100PcieIsReproduced() {
        for (Calibration.Error e : calibration.errors()) {
            if (e.c().engine().equals("llama.cpp")) {
                assertThat(Math.abs(e.relative())).as(e.c().id()).isLessThan(0.10);
            }
        }
    }
}
