package io.github.openailb.autoconfigure;

import java.util.Map;

import org.springframework.core.env.ConfigurableEnvironment;

/**
 * Logger levels the balanced transport needs by default. Reactor Netty logs a WARN with a stack
 * trace for every connection error its client observes ("The connection observed an error"); the
 * balancer handles each one (the request fails over, the failure is counted and shown in health),
 * so in a storm of resets the log would fill with errors nobody has to act on. Its real errors
 * still show at ERROR. A level the user set for that logger, or for any logger above it, wins.
 */
final class TransportLogDefaults {

	/** The logger of Reactor Netty's HTTP client that reports every observed connection error. */
	static final String CONNECT_LOGGER = "reactor.netty.http.client.HttpClientConnect";

	private TransportLogDefaults() {
	}

	/**
	 * Add the defaults the user did not set.
	 * @param environment the environment, with the user's configuration loaded
	 * @param defaults the defaults to add to
	 */
	static void addTo(ConfigurableEnvironment environment, Map<String, Object> defaults) {
		LoggerLevelDefaults.put(environment, defaults, CONNECT_LOGGER, "ERROR");
	}

}
