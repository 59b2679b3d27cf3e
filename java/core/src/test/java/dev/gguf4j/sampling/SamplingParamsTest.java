package dev.gguf4j.sampling;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Out-of-range and NaN sampling settings are refused when the parameters are made, naming the setting. */
class SamplingParamsTest {
    @Test
    void nanAndOutOfRangeValuesAreRefused() {
        SamplingParams d = SamplingParams.DEFAULTS;
        for (Runnable bad : new Runnable[] {() -> d.withTopP(Float.NaN), () -> d.withTopP(2), () -> d.withMinP(-0.1f),
            () -> d.withMinP(Float.NaN), () -> d.withTemperature(Float.NaN),
            () -> d.withTemperature(Float.POSITIVE_INFINITY)}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, bad::run);
            assertTrue(e.getMessage().matches(".*(top-p|temperature).*"), e.getMessage());
        }
        assertDoesNotThrow(() -> d.withTemperature(-1)); // llama.cpp: <= 0 is greedy
        assertDoesNotThrow(() -> d.withTopP(1).withMinP(0));
    }
}
