package io.github.openailb.core;

/**
 * One model a backend serves: the name the application uses, the deployment that serves it on
 * this backend, and that deployment's client-side budgets (Azure assigns quota per deployment).
 *
 * @param model the model or deployment name the application sends
 * @param name the deployment's name on this backend, the same as {@code model} when not renamed
 * @param rpm client-side requests-per-minute budget of this deployment, 0 for none
 * @param tpm client-side tokens-per-minute budget of this deployment, 0 for none
 */
public record DeploymentConfig(String model, String name, long rpm, long tpm) {

	/**
	 * A deployment without client-side budgets.
	 * @param model the name the application sends
	 * @param name the name on this backend
	 */
	public DeploymentConfig(String model, String name) {
		this(model, name, 0, 0);
	}

}
