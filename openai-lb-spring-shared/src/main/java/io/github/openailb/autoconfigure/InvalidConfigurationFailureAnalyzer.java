package io.github.openailb.autoconfigure;

import java.util.List;

import io.github.openailb.core.ConfigurationProblems.Problem;
import io.github.openailb.core.InvalidConfigurationException;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * Explains a bad {@code openai.lb.*} configuration: every property at fault and its fix, so that
 * one restart is enough to fix them all.
 */
class InvalidConfigurationFailureAnalyzer extends AbstractFailureAnalyzer<InvalidConfigurationException> {

	@Override
	protected FailureAnalysis analyze(Throwable rootFailure, InvalidConfigurationException cause) {
		List<Problem> problems = cause.getProblems();
		if (problems.size() == 1) {
			return new FailureAnalysis("The openai-lb configuration is invalid: " + cause.getMessage() + ".",
					"Fix the property '" + cause.getProperty() + "'. " + cause.getAction(), cause);
		}
		StringBuilder description = new StringBuilder("The openai-lb configuration has " + problems.size()
				+ " problems:\n");
		StringBuilder action = new StringBuilder("Fix these properties:\n");
		for (Problem problem : problems) {
			description.append("\n  - ").append(problem.property()).append(": ").append(problem.problem());
			action.append("\n  - ").append(problem.property()).append(": ").append(problem.action());
		}
		return new FailureAnalysis(description.toString(), action.toString(), cause);
	}

}
