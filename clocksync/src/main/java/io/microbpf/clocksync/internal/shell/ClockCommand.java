package io.microbpf.clocksync.internal.shell;

import io.microbpf.api.latency.LatencyTable;
import io.microbpf.clocksync.ClockSync;
import io.microbpf.clocksync.PeerClock;
import java.io.PrintStream;
import java.util.Locale;
import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;

@Service
@Command(scope = "microbpf", name = "clock", description = "Clock offsets to the peer agents (NTP-style probes in the BPF clock): offset, error bound, drift, age")
public class ClockCommand implements Action {
    @Reference
    ClockSync clock;

    PrintStream out = System.out;

    @Override
    public Object execute() {
        out.println("agent " + clock.agentId() + ": clock CLOCK_MONOTONIC (bpf_ktime_get_ns)"
                + (clock.injectedOffsetNs() == 0 ? "" : ", injected test offset " + signed(clock.injectedOffsetNs())));
        ShellTable t = new ShellTable();
        t.column("PEER");
        t.column("ADDRESS");
        t.column("OFFSET").alignRight();
        t.column("ERROR BOUND").alignRight();
        t.column("DRIFT PPM").alignRight();
        t.column("BEST RTT").alignRight();
        t.column("SAMPLES").alignRight();
        t.column("AGE").alignRight();
        for (PeerClock p : clock.peers()) {
            if (!p.synced()) {
                t.addRow().addContent(p.peerId(), p.address(), "-", "-", "-", "-", 0, "never");
                continue;
            }
            t.addRow().addContent(p.peerId(), p.address(), signed(p.offsetNs()), "± " + LatencyTable.duration(p.errorBoundNs()),
                    String.format(Locale.ROOT, "%.2f", p.driftPpm()), LatencyTable.duration(p.bestRoundTripNs()),
                    p.samples(), LatencyTable.duration(p.ageNs()));
        }
        t.print(out);
        out.println("OFFSET = peer clock − this agent's clock");
        return null;
    }

    static String signed(long ns) {
        return (ns < 0 ? "-" : "+") + LatencyTable.duration(Math.abs(ns == Long.MIN_VALUE ? Long.MAX_VALUE : ns));
    }
}
