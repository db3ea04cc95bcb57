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

	private LoggerLevelDefaults() {
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
