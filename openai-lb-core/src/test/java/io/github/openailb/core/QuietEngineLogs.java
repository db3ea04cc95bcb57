package io.github.openailb.core;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

/**
 * Raises the engine's log level to WARN for a test class that runs tens of thousands of
 * requests, whose INFO lines (one per failover) would cost more time than the test itself.
 */
final class QuietEngineLogs implements BeforeAllCallback, AfterAllCallback {

	private static final Logger ENGINE = (Logger) LoggerFactory.getLogger("io.github.openailb.core.LoadBalancer");

	private Level level;

	@Override
	public void beforeAll(ExtensionContext context) {
		this.level = ENGINE.getLevel();
		ENGINE.setLevel(Level.WARN);
	}

	@Override
	public void afterAll(ExtensionContext context) {
		ENGINE.setLevel(this.level);
	}

}
