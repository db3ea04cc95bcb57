package io.github.openailb.core;

import java.util.List;
import java.util.stream.Collectors;

/**
 * Thrown when the balancer configuration cannot work. Carries every problem found, each with the
 * property path at fault and the fix, so start-up failure analysis can show them all at once.
 * Never carries a key or token.
 */
public class InvalidConfigurationException extends IllegalArgumentException {

	private final List<ConfigurationProblems.Problem> problems;

	/**
	 * Create a new exception for one problem.
	 * @param property the property path at fault, e.g. {@code openai.lb.backends[1].url}
	 * @param problem what is wrong with it
	 * @param action how to fix it
	 */
	public InvalidConfigurationException(String property, String problem, String action) {
		this(List.of(new ConfigurationProblems.Problem(property, problem, action)));
	}

	/**
	 * Create a new exception for several problems.
	 * @param problems the problems, at least one
	 */
	public InvalidConfigurationException(List<ConfigurationProblems.Problem> problems) {
		super(message(problems));
		this.problems = List.copyOf(problems);
	}

	private static String message(List<ConfigurationProblems.Problem> problems) {
		if (problems.isEmpty()) {
			throw new IllegalArgumentException("at least one problem is required");
		}
		if (problems.size() == 1) {
			return problems.get(0).property() + ": " + problems.get(0).problem();
		}
		return problems.size() + " problems: " + problems.stream()
			.map((problem) -> problem.property() + ": " + problem.problem())
			.collect(Collectors.joining("; "));
	}

	/**
	 * Return the property path of the first problem.
	 * @return the property path
	 */
	public String getProperty() {
		return this.problems.get(0).property();
	}

	/**
	 * Return how to fix the first problem.
	 * @return the action to take
	 */
	public String getAction() {
		return this.problems.get(0).action();
	}

	/**
	 * Return every problem found, in the order found.
	 * @return the problems, never empty
	 */
	public List<ConfigurationProblems.Problem> getProblems() {
		return this.problems;
	}

}
