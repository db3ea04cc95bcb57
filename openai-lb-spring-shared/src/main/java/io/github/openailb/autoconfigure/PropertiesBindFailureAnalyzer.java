package io.github.openailb.autoconfigure;

import java.util.ArrayList;
import java.util.List;

import io.github.openailb.core.BalancerConfig;
import io.github.openailb.core.InvalidConfigurationException;

import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.UnboundConfigurationPropertiesException;
import org.springframework.boot.context.properties.source.ConfigurationProperty;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.core.Ordered;
import org.springframework.util.ClassUtils;

/**
 * Explains a failure to bind {@code openai.lb.*} by property names, origins and the fix, never by
 * value. Ordered before Spring Boot's bind analyzers, which print each property's value: for
 * {@code openai.lb.backends[*].api-key} that is the key, in clear, in the start-up log.
 */
class PropertiesBindFailureAnalyzer extends AbstractFailureAnalyzer<BindException> implements Ordered {

	private static final ConfigurationPropertyName PREFIX = ConfigurationPropertyName.of(BalancerConfig.PREFIX);

	@Override
	protected FailureAnalysis analyze(Throwable rootFailure, BindException cause) {
		if (!PREFIX.isAncestorOf(cause.getName()) && !PREFIX.equals(cause.getName())) {
			return null;
		}
		if (findCause(rootFailure, InvalidConfigurationException.class) != null) {
			// our own validation, whose messages never hold a key, explains it
			return null;
		}
		UnboundConfigurationPropertiesException unbound = findCause(cause,
				UnboundConfigurationPropertiesException.class);
		StringBuilder description = new StringBuilder("Binding to target '" + cause.getName() + "' failed")
			.append(" (values are not shown: they may be keys):\n");
		if (unbound != null) {
			for (ConfigurationProperty property : unbound.getUnboundProperties()) {
				describe(description, property, "it was left unbound");
			}
			return new FailureAnalysis(description.toString(),
					"Define every entry of a list under '" + BalancerConfig.PREFIX + "' (e.g. '" + BalancerConfig.PREFIX
							+ ".backends') in one property source: Spring Boot binds a list from the first source that"
							+ " has it and ignores entries elsewhere. Move the properties above next to the others of"
							+ " their list (one file, or only environment variables, or only command-line"
							+ " arguments).",
					cause);
		}
		String type = (cause.getTarget().getType().resolve() != null)
				? ClassUtils.getShortName(cause.getTarget().getType().resolve()) : "its type";
		List<String> reasons = new ArrayList<>();
		for (Throwable failure = cause.getCause(); failure != null && failure.getCause() != failure;
				failure = failure.getCause()) {
			// exception types say what failed; their messages may quote the value
			reasons.add(failure.getClass().getSimpleName());
		}
		ConfigurationProperty property = cause.getProperty();
		String reason = "it could not be bound to " + type
				+ (reasons.isEmpty() ? "" : " (" + String.join(" caused by ", reasons) + ")");
		if (property != null) {
			describe(description, property, reason);
		}
		else {
			description.append("\n    Property: ").append(cause.getName()).append("\n    Reason: ").append(reason)
				.append('\n');
		}
		return new FailureAnalysis(description.toString(),
				"Update the value of '" + ((property != null) ? property.getName() : cause.getName())
						+ "' to a valid " + type + " (durations take a unit, e.g. 30s; see the openai-lb README).",
				cause);
	}

	private static void describe(StringBuilder description, ConfigurationProperty property, String reason) {
		description.append("\n    Property: ").append(property.getName());
		if (property.getOrigin() != null) {
			description.append("\n    Origin: ").append(property.getOrigin());
		}
		description.append("\n    Reason: ").append(reason).append('\n');
	}

	@Override
	public int getOrder() {
		// Spring Boot's own analyzers are unordered (lowest precedence): the first analysis wins
		return Ordered.HIGHEST_PRECEDENCE;
	}

}
