package io.github.openailb.core;

import java.util.ArrayList;
import java.util.List;

/**
 * Collects every problem of a configuration before failing, so that a user fixes them all after
 * one start-up instead of one per restart. Each problem names the property path and the fix, and
 * never a key.
 */
public final class ConfigurationProblems {

	private final List<Problem> problems = new ArrayList<>();

	/**
	 * Record a problem.
	 * @param property the property path at fault, e.g. {@code openai.lb.backends[1].url}
	 * @param problem what is wrong with it
	 * @param action how to fix it
	 * @return this collector
	 */
	public ConfigurationProblems add(String property, String problem, String action) {
		this.problems.add(new Problem(property, problem, action));
		return this;
	}

	/**
	 * Record the problems a validation failed with.
	 * @param failure the failure
	 * @return this collector
	 */
	public ConfigurationProblems addAll(InvalidConfigurationException failure) {
		this.problems.addAll(failure.getProblems());
		return this;
	}

	/**
	 * Run a validation and record its problems instead of failing at the first one.
	 * @param validation the validation
	 * @return this collector
	 */
	public ConfigurationProblems collect(Runnable validation) {
		try {
			validation.run();
		}
		catch (InvalidConfigurationException ex) {
			addAll(ex);
		}
		return this;
	}

	/**
	 * Return whether a problem was recorded for the property.
	 * @param property the property path
	 * @return whether it has a problem
	 */
	public boolean has(String property) {
		return this.problems.stream().anyMatch((problem) -> problem.property().equals(property));
	}

	/**
	 * Return whether no problem was recorded.
	 * @return whether the configuration is fine so far
	 */
	public boolean isEmpty() {
		return this.problems.isEmpty();
	}

	/**
	 * Return the problems, in the order they were found.
	 * @return the problems
	 */
	public List<Problem> list() {
		return List.copyOf(this.problems);
	}

	/**
	 * Fail with every problem recorded, if any.
	 * @throws InvalidConfigurationException carrying all the problems
	 */
	public void throwIfAny() {
		if (!this.problems.isEmpty()) {
			throw new InvalidConfigurationException(this.problems);
		}
	}

	/**
	 * One problem of a configuration.
	 *
	 * @param property the property path at fault
	 * @param problem what is wrong with it
	 * @param action how to fix it
	 */
	public record Problem(String property, String problem, String action) {

	}

}
