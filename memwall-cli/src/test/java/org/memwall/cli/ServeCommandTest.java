package org.memwall.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.memwall.MemwallException;

class ServeCommandTest {
    @Test
    void kvBudgetSizesUseBinaryUnits() {
        assertThat(ServeCommand.parseSize("4096")).isEqualTo(4096);
        assertThat(ServeCommand.parseSize("512K")).isEqualTo(512L << 10);
        assertThat(ServeCommand.parseSize("512m")).isEqualTo(512L << 20);
        assertThat(ServeCommand.parseSize("8GiB")).isEqualTo(8L << 30);
        assertThat(ServeCommand.parseSize("2 GB")).isEqualTo(2L << 30);
        for (String bad : new String[] {"", "lots", "-1G", "0", "99999999999T"}) {
            assertThatThrownBy(() -> ServeCommand.parseSize(bad)).isInstanceOf(MemwallException.class).hasMessageContaining("is not a size");
        }
    }

    @Test
    void aBadKvBudgetIsOneLineAndExitCode1() {
        Cli r = Cli.run("serve", "--kv-budget", "lots", "--port", "0");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err().strip()).isEqualTo("memwall: --kv-budget 'lots' is not a size such as 512M or 8G (or auto)");
    }
}
