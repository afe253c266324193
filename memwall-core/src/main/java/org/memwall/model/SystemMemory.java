package org.memwall.model;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/** Host memory the process could still use: where the CPU's KV caches are allocated (off the Java heap). */
final class SystemMemory {
    private static final Path MEMINFO = Path.of("/proc/meminfo");

    private SystemMemory() {
    }

    /**
     * Linux's {@code MemAvailable} (free memory plus what the page cache would give back), else the
     * free physical memory the JVM reports.
     */
    static long available() {
        try {
            for (String line : Files.readAllLines(MEMINFO)) {
                if (line.startsWith("MemAvailable:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // Not Linux: the JVM's figure.
        }
        return ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                ? os.getFreeMemorySize() : Long.MAX_VALUE;
    }
}
