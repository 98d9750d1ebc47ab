package io.microbpf.itest;

import java.util.List;
import org.junit.AssumptionViolatedException;
import org.junit.runner.Description;
import org.junit.runner.notification.Failure;
import org.junit.runner.notification.RunNotifier;
import org.junit.runners.model.InitializationError;
import org.ops4j.pax.exam.junit.PaxExam;

/**
 * The Pax Exam runner, preceded by the BPF capability check in the test driver (the forked Karaf
 * JVM is its child and has the same capabilities). Without the capability every test is reported
 * as skipped, with the reason, and no container is started; with CI=true the tests run anyway and
 * fail on their own check in the container ({@link BpfCapability#require()}).
 *
 * <p>Why not an assumption in the test: Pax Exam reports an assumption that fails inside the
 * container as a pass, and it runs {@code @BeforeClass} only inside the container.
 */
public class BpfPaxExam extends PaxExam {

    public BpfPaxExam(Class<?> testClass) throws InitializationError {
        super(testClass);
    }

    @Override
    public void run(RunNotifier notifier) {
        List<String> missing = BpfCapability.missing();
        if (missing.isEmpty() || BpfCapability.inCi()) {
            super.run(notifier);
            return;
        }
        String reason = "no BPF capability: " + String.join("; ", missing)
                + " (skipped; run as root on a kernel with BPF and BTF; with CI=true this fails)";
        skipAll(getDescription(), notifier, reason);
    }

    private static void skipAll(Description description, RunNotifier notifier, String reason) {
        if (description.isTest()) {
            notifier.fireTestStarted(description);
            notifier.fireTestAssumptionFailed(new Failure(description, new AssumptionViolatedException(reason)));
            notifier.fireTestFinished(description);
            return;
        }
        for (Description child : description.getChildren()) {
            skipAll(child, notifier, reason);
        }
    }
}
