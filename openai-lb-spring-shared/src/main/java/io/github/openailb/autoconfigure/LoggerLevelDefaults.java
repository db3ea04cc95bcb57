package io.github.openailb.autoconfigure;

import java.util.Map;

import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.util.StringUtils;

/**
 * Sets a default level for a logger whose lines the balancer makes redundant, unless the user set
 * a level for that logger or for any package above it ({@code root} aside, so that a global level
 * does not undo the default).
 */
final class LoggerLevelDefaults {

	/**
	 * Reactor Netty's HTTP client logs a WARN with a stack trace for every connection error it
	 * observes; the balancer handles each one (fails over, counts it, shows it in health), so in a
	 * storm of resets that would be a log of errors nobody has to act on. Real errors still show.
	 */
	static final String CONNECT_LOGGER = "reactor.netty.http.client.HttpClientConnect";

	private LoggerLevelDefaults() {
	}

	/**
	 * Add the levels the balanced transport needs, whether or not Spring AI is used.
	 * @param environment the environment, with the user's configuration loaded
	 * @param defaults the defaults to add to
	 */
	static void addTransportDefaults(ConfigurableEnvironment environment, Map<String, Object> defaults) {
		put(environment, defaults, CONNECT_LOGGER, "ERROR");
	}

	/**
	 * Add {@code logging.level.<logger>=<level>} to the defaults unless the user set a level for it.
	 * @param environment the environment, with the user's configuration loaded
	 * @param defaults the defaults to add to
	 * @param logger the full logger name
	 * @param level the default level
	 */
	static void put(ConfigurableEnvironment environment, Map<String, Object> defaults, String logger, String level) {
		String name = logger;
		while (!name.isEmpty()) {
			if (StringUtils.hasText(environment.getProperty("logging.level." + name))) {
				return;
			}
			int dot = name.lastIndexOf('.');
			name = (dot > 0) ? name.substring(0, dot) : "";
		}
		defaults.put("logging.level." + logger, level);
	}

}
