package org.memwall.plan;

import java.util.ArrayList;
import java.util.List;
import org.memwall.MemwallException;

/**
 * A fleet serving a model mix: N devices, or as many as a power budget feeds at the wall, split equally
 * between the models; each model runs in replicas of the tensor-parallel degree (1, 2, 4 or 8) that
 * gives it the most output tokens/s per device at its latency targets.
 */
public final class Fleet {
    private static final int[] TP = {1, 2, 4, 8};

    /** One model's share: its replica shape and what the share serves. */
    public record Share(Plan perReplica, int devices, int replicas, long users, double outputTokensPerS, double powerW) {
    }

    private Fleet() {
    }

    /** Devices a power budget (W at the wall) feeds. */
    public static int devicesFor(double budgetW, Deployment d) {
        if (Double.isNaN(d.hardware().powerW())) {
            throw new MemwallException(d.hardware().id() + " has no published power, so a power budget cannot be turned into devices");
        }
        return (int) Math.floor(budgetW / (d.hardware().powerW() * d.pue()));
    }

    public static List<Share> serve(List<Workload> models, Deployment d, int devices) {
        List<Share> out = new ArrayList<>();
        int each = devices / models.size();
        for (Workload w : models) {
            Plan best = null;
            for (int tp : TP) {
                if (tp > each) {
                    break;
                }
                Plan p = Plan.of(w, d.withTp(tp, tp));
                if (p.fits() && p.maxConcurrency() > 0 && (best == null || p.outputTokensPerS() / p.devices() > best.outputTokensPerS() / best.devices())) {
                    best = p;
                }
            }
            if (best == null) {
                throw new MemwallException(w.model().name() + " meets its targets on no replica of up to 8 " + d.hardware().id()
                        + " devices (" + each + " available to it)");
            }
            int replicas = each / best.tp();
            out.add(new Share(best, replicas * best.tp(), replicas, (long) replicas * best.concurrency(), replicas * best.outputTokensPerS(),
                    replicas * best.powerW()));
        }
        return out;
    }
}
