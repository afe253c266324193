package org.memwall.plan;

import org.memwall.MemwallException;

/**
 * Where it is served: {@code count} devices (0: as many as the load needs) in replicas of {@code tp}
 * tensor-parallel devices, with the data centre's PUE, a price per device-hour (NaN: none) and the
 * engine's efficiency.
 */
public record Deployment(Hardware hardware, int count, int tp, double pue, double usdPerDeviceHour, Efficiency efficiency) {

    public Deployment {
        if (tp < 1 || count < 0) {
            throw new MemwallException("--tp must be at least 1 and --count at least 1");
        }
        if (count > 0 && count % tp != 0) {
            throw new MemwallException("--count " + count + " is not a multiple of --tp " + tp + " (replicas are whole)");
        }
        if (pue < 1) {
            throw new MemwallException("--pue " + pue + " is below 1 (a data centre cannot use less power than its IT load)");
        }
        if (usdPerDeviceHour < 0) {
            throw new MemwallException("--price must not be negative");
        }
        if (tp > 1 && Double.isNaN(hardware.link())) {
            throw new MemwallException(hardware.id() + " has no link bandwidth in the catalog, so --tp " + tp + " cannot be planned");
        }
    }

    public Deployment withTp(int t, int devices) {
        return new Deployment(hardware, devices, t, pue, usdPerDeviceHour, efficiency);
    }
}
