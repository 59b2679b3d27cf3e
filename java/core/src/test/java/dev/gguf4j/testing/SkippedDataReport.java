package dev.gguf4j.testing;

import java.util.Set;
import java.util.TreeSet;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.TestSource;
import org.junit.platform.engine.support.descriptor.ClassSource;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;

/**
 * Says once per test run which test classes were skipped for want of ../shared, why, and how to get the data
 * (registered through META-INF/services, so every module whose tests have this class on the class path gets it).
 */
public final class SkippedDataReport implements TestExecutionListener {
    private final Set<String> skipped = new TreeSet<>();

    @Override
    public void executionFinished(TestIdentifier id, TestExecutionResult result) {
        if (result.getStatus() == TestExecutionResult.Status.ABORTED && result.getThrowable()
                .map(t -> t.getMessage() != null && t.getMessage().startsWith(TestData.SKIP_MARKER)).orElse(false)) {
            id.getSource().map(SkippedDataReport::className).ifPresent(c -> {
                synchronized (skipped) {
                    skipped.add(c.substring(c.lastIndexOf('.') + 1));
                }
            });
        }
    }

    @Override
    public void testPlanExecutionFinished(TestPlan plan) {
        synchronized (skipped) {
            if (!skipped.isEmpty()) {
                System.out.println("gguf4j: ../shared not found at " + TestData.sharedLocation() + ": skipped tests in "
                        + skipped.size() + " test classes that need llama.cpp's golden data and models beyond tests/data ("
                        + String.join(", ", skipped) + "); put the shared data beside the checkout (../shared) or pass"
                        + " -Dgguf4j.shared=DIR to Maven (-Dgguf4j.test.shared=DIR to the test JVM)");
                skipped.clear();
            }
        }
    }

    private static String className(TestSource s) {
        if (s instanceof MethodSource m) {
            return m.getClassName();
        }
        if (s instanceof ClassSource c) {
            return c.getClassName();
        }
        return null;
    }
}
