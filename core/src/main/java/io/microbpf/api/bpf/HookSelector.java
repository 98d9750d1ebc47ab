package io.microbpf.api.bpf;

import io.microbpf.api.HookReport;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Picks, for each attach point, the first candidate hook the kernel accepts, and records why each
 * earlier candidate was rejected. The kernel side is behind {@link Trial} so the choice itself is
 * testable with fakes.
 */
public final class HookSelector {
    /** Tries one candidate; returns empty if it loads and attaches, else one line saying why not. */
    @FunctionalInterface
    public interface Trial {
        Optional<String> attempt(AttachPoint point, HookCandidate candidate);
    }

    /**
     * The outcome.
     *
     * @param chosen attach point name to the chosen candidate (absent when none worked)
     * @param reports one per attach point, in declaration order
     * @param missingRequired names of required attach points no candidate could serve
     */
    public record Selection(Map<String, HookCandidate> chosen, List<HookReport> reports, List<String> missingRequired) {
        public boolean complete() {
            return missingRequired.isEmpty();
        }

        /** One line naming each required attach point that failed and its candidates' reasons. */
        public String problem() {
            StringBuilder sb = new StringBuilder();
            for (HookReport r : reports) {
                if (missingRequired.contains(r.attachPoint())) {
                    if (sb.length() > 0) {
                        sb.append("; ");
                    }
                    sb.append("no hook for ").append(r.attachPoint()).append(": ").append(String.join(" | ", r.rejected()));
                }
            }
            return sb.toString();
        }
    }

    private HookSelector() {}

    public static Selection select(List<AttachPoint> points, Trial trial) {
        Map<String, HookCandidate> chosen = new LinkedHashMap<>();
        List<HookReport> reports = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (AttachPoint point : points) {
            List<String> rejected = new ArrayList<>();
            HookCandidate winner = null;
            for (HookCandidate c : point.candidates()) {
                Optional<String> failure;
                try {
                    failure = trial.attempt(point, c);
                } catch (RuntimeException e) {
                    failure = Optional.of(String.valueOf(e.getMessage()));
                }
                if (failure.isEmpty()) {
                    winner = c;
                    break;
                }
                rejected.add(c.hook() + ": " + failure.get());
            }
            if (winner != null) {
                chosen.put(point.name(), winner);
            } else if (point.required()) {
                missing.add(point.name());
            }
            reports.add(new HookReport(point.name(), winner == null ? null : winner.hook(), List.copyOf(rejected)));
        }
        return new Selection(Map.copyOf(chosen), List.copyOf(reports), List.copyOf(missing));
    }
}
