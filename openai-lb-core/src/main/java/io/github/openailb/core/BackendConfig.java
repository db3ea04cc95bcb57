package io.github.openailb.core;

import java.net.URI;
import java.util.List;
import java.util.Locale;

/**
 * Immutable description of one backend instance. Built and validated by
 * {@link BalancerConfig.Builder}.
 *
 * @param name unique id used in logs, metrics, health and as the circuit-breaker name
 * @param url base URL without trailing slash: scheme, host, optional port and path prefix
 * @param priority 1 is the highest; lower tiers only take traffic while higher ones cannot
 * @param weight share of traffic among available backends of the same priority
 * @param apiKey key sent to this backend, or {@code null} to use another credential
 * @param keyStyle how the key is sent
 * @param deployment one deployment name used on this backend for every request, or {@code null} to
 * keep the caller's (see {@code deployments} for one per model)
 * @param enabled whether the backend takes traffic at all
 * @param rpm client-side requests-per-minute budget, 0 for none
 * @param tpm client-side tokens-per-minute budget, 0 for none
 * @param deployments the models this backend serves, each under its name here; empty when it serves
 * every model under the caller's name (or under {@code deployment})
 */
public record BackendConfig(String name, URI url, int priority, int weight, String apiKey, KeyStyle keyStyle,
		String deployment, boolean enabled, long rpm, long tpm, List<DeploymentConfig> deployments) {

	/**
	 * Validate the deployment list's shape: never {@code null}, and never beside a single deployment.
	 */
	public BackendConfig {
		deployments = (deployments != null) ? List.copyOf(deployments) : List.of();
		if (deployment != null && !deployments.isEmpty()) {
			throw new IllegalArgumentException("Backend '" + name + "' sets both a deployment and a deployment map");
		}
	}

	/**
	 * Create a backend without a deployment map.
	 * @param name unique id
	 * @param url base URL
	 * @param priority priority, 1 the highest
	 * @param weight weight within the tier
	 * @param apiKey key, or {@code null}
	 * @param keyStyle how the key is sent
	 * @param deployment deployment name, or {@code null}
	 * @param enabled whether enabled
	 * @param rpm client-side requests-per-minute budget, 0 for none
	 * @param tpm client-side tokens-per-minute budget, 0 for none
	 */
	public BackendConfig(String name, URI url, int priority, int weight, String apiKey, KeyStyle keyStyle,
			String deployment, boolean enabled, long rpm, long tpm) {
		this(name, url, priority, weight, apiKey, keyStyle, deployment, enabled, rpm, tpm, List.of());
	}

	/**
	 * Create a backend without client-side budgets.
	 * @param name unique id
	 * @param url base URL
	 * @param priority priority, 1 the highest
	 * @param weight weight within the tier
	 * @param apiKey key, or {@code null}
	 * @param keyStyle how the key is sent
	 * @param deployment deployment name, or {@code null}
	 * @param enabled whether enabled
	 */
	public BackendConfig(String name, URI url, int priority, int weight, String apiKey, KeyStyle keyStyle,
			String deployment, boolean enabled) {
		this(name, url, priority, weight, apiKey, keyStyle, deployment, enabled, 0, 0);
	}

	/**
	 * Return the deployment serving a model on this backend.
	 * @param model the name the application sends
	 * @return the deployment, or {@code null} when this backend lists none for that model
	 */
	public DeploymentConfig deploymentFor(String model) {
		for (DeploymentConfig candidate : this.deployments) {
			if (candidate.model().equals(model)) {
				return candidate;
			}
		}
		return null;
	}

	/**
	 * Return the deployments this backend keeps state for: those its map lists; without a map,
	 * each listed model, served under its own name; none when one {@code deployment} takes every
	 * request (the backend's state is the deployment's).
	 * @param models every model some backend's map lists, see {@link BalancerConfig#models()}
	 * @return the deployments, each model's position in {@code models} kept, {@code null} where
	 * this backend keeps no state for a model
	 */
	public DeploymentConfig[] deploymentsAmong(List<String> models) {
		DeploymentConfig[] among = new DeploymentConfig[models.size()];
		for (int i = 0; i < among.length; i++) {
			among[i] = !this.deployments.isEmpty() ? deploymentFor(models.get(i))
					: (this.deployment == null) ? new DeploymentConfig(models.get(i), models.get(i)) : null;
		}
		return among;
	}

	/**
	 * Return the host (and port when explicit) of this backend, safe to show anywhere.
	 * @return host and optional port
	 */
	public String host() {
		return (this.url.getPort() != -1) ? this.url.getHost() + ":" + this.url.getPort() : this.url.getHost();
	}

	boolean https() {
		return "https".equals(this.url.getScheme().toLowerCase(Locale.ROOT));
	}

	/** Keys stay out of logs, even when a record is printed by accident. */
	@Override
	public String toString() {
		return "BackendConfig[name=" + this.name + ", url=" + this.url + ", priority=" + this.priority + ", weight="
				+ this.weight + ", apiKey=" + ((this.apiKey != null) ? "******" : "none") + ", keyStyle="
				+ this.keyStyle + ", deployment=" + this.deployment + ", enabled=" + this.enabled + ", rpm=" + this.rpm
				+ ", tpm=" + this.tpm + ", deployments=" + this.deployments + "]";
	}

}
