package io.github.openailb.core;

/**
 * Thrown when the balancer configuration cannot work. Carries the property path at fault and
 * the fix, so start-up failure analysis can show both. Never carries a key or token.
 */
public class InvalidConfigurationException extends IllegalArgumentException {

	private final String property;

	private final String action;

	/**
	 * Create a new exception.
	 * @param property the property path at fault, e.g. {@code openai.lb.backends[1].url}
	 * @param problem what is wrong with it
	 * @param action how to fix it
	 */
	public InvalidConfigurationException(String property, String problem, String action) {
		super(property + ": " + problem);
		this.property = property;
		this.action = action;
	}

	/**
	 * Return the property path at fault.
	 * @return the property path
	 */
	public String getProperty() {
		return this.property;
	}

	/**
	 * Return how to fix the configuration.
	 * @return the action to take
	 */
	public String getAction() {
		return this.action;
	}

}
