package io.github.openailb.autoconfigure;

import io.github.openailb.core.InvalidConfigurationException;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * Explains a bad {@code openai.lb.*} configuration: the property at fault and the fix.
 */
class InvalidConfigurationFailureAnalyzer extends AbstractFailureAnalyzer<InvalidConfigurationException> {

	@Override
	protected FailureAnalysis analyze(Throwable rootFailure, InvalidConfigurationException cause) {
		return new FailureAnalysis("The openai-lb configuration is invalid: " + cause.getMessage() + ".",
				"Fix the property '" + cause.getProperty() + "'. " + cause.getAction(), cause);
	}

}
