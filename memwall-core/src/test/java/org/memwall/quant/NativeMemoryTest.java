package org.memwall.quant;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class NativeMemoryTest {

    @Test
    void uninitializedMemoryIsAlignedSizedAndHoldsWhatIsWritten() {
        for (long bytes : new long[] {1, 64, 4097, 3L << 20}) {
            MemorySegment s = NativeMemory.uninitialized(bytes, 64);
            assertThat(s.byteSize()).isEqualTo(bytes);
            assertThat(s.address() % 64).as("alignment of %d bytes", bytes).isZero();
            for (long i = 0; i < bytes; i += 4093) {
                s.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 31));
            }
            s.set(ValueLayout.JAVA_BYTE, bytes - 1, (byte) 7);
            for (long i = 0; i < bytes - 1; i += 4093) {
                assertThat(s.get(ValueLayout.JAVA_BYTE, i)).isEqualTo((byte) (i * 31));
            }
            assertThat(s.get(ValueLayout.JAVA_BYTE, bytes - 1)).isEqualTo((byte) 7);
        }
    }
}
