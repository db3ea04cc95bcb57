package io.github.openailb.autoconfigure;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;

import io.github.openailb.transport.BalancingClientHttpConnector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.core.env.Environment;
import org.springframework.util.StringUtils;

/**
 * Says once, at start-up, which Spring AI base URLs the user pointed at a server other than the
 * balancer's {@value BalancingClientHttpConnector#BASE_URL}. Only requests to that host are
 * balanced, so these go straight to the user's server: no failover, and nothing in the balancer's
 * health or metrics. The choice is respected (a server of one's own may be meant). Only property
 * names are logged: a URL may carry credentials.
 */
final class SpringAiBaseUrlCheck {

	private static final Logger logger = LoggerFactory.getLogger(SpringAiBaseUrlCheck.class);

	private SpringAiBaseUrlCheck() {
	}

	/**
	 * Log one WARN naming each of the properties set to a host other than the balancer's.
	 * @param environment the application's environment
	 * @param properties the base-URL properties of the Spring AI line
	 */
	static void warnOfUnbalanced(Environment environment, List<String> properties) {
		List<String> unbalanced = unbalanced(environment, properties);
		if (!unbalanced.isEmpty()) {
			String names = String.join(", ", unbalanced);
			logger.warn("Spring AI's OpenAI requests configured by " + names + " are not balanced: "
					+ ((unbalanced.size() == 1) ? "it names" : "they name")
					+ " a server other than the balancer, so they go straight there, without failover and"
					+ " outside openai-lb's health and metrics. To balance them across openai.lb.backends,"
					+ " remove " + names + " (or set " + ((unbalanced.size() == 1) ? "it" : "each") + " to "
					+ BalancingClientHttpConnector.BASE_URL + ").");
		}
	}

	static List<String> unbalanced(Environment environment, List<String> properties) {
		List<String> unbalanced = new ArrayList<>();
		for (String property : properties) {
			String url = environment.getProperty(property);
			if (StringUtils.hasText(url) && !BalancingClientHttpConnector.LOGICAL_HOST.equalsIgnoreCase(host(url))) {
				unbalanced.add(property);
			}
		}
		return unbalanced;
	}

	private static String host(String url) {
		try {
			return URI.create(url.trim()).getHost();
		}
		catch (IllegalArgumentException ex) {
			// Spring AI reports a malformed URL itself
			return BalancingClientHttpConnector.LOGICAL_HOST;
		}
	}

}
