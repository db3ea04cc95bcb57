package io.github.openailb.actuate;

import java.util.List;

import io.github.openailb.core.Backend;
import io.github.openailb.core.Deployment;
import io.github.openailb.core.Headroom;
import io.github.openailb.core.BackendState;
import io.github.openailb.core.LoadBalancer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;

/**
 * Gauges of each backend's state: {@value #STATE} with tags {@code backend} and {@code state} is 1
 * for the state the backend is in and 0 for the others, so dashboards can show or alert on it.
 * Likewise {@value #DEPLOYMENT_STATE} with tags {@code backend}, {@code deployment} (the model) and
 * {@code state} for each model's deployment on a backend ({@code AVAILABLE}, {@code COOLING_DOWN} or
 * {@code MISCONFIGURED}, its own state: whether its backend takes traffic is the backend's gauge),
 * and {@value #DEPLOYMENT_HEADROOM} for its last quota report. The states are read only when the
 * registry is scraped.
 */
public class OpenAiLbBackendStateMetrics implements MeterBinder {

	/** Name of the backend state gauge. */
	public static final String STATE = "openai.lb.backend.state";

	/** Name of the gauge of the quota share a backend last reported left. */
	public static final String HEADROOM = "openai.lb.backend.headroom";

	/** Name of the deployment state gauge. */
	public static final String DEPLOYMENT_STATE = "openai.lb.deployment.state";

	/** Name of the gauge of the quota share a deployment last reported left. */
	public static final String DEPLOYMENT_HEADROOM = "openai.lb.deployment.headroom";

	/** The states a deployment has of its own. */
	private static final List<BackendState> DEPLOYMENT_STATES = List.of(BackendState.AVAILABLE,
			BackendState.COOLING_DOWN, BackendState.MISCONFIGURED);

	private final LoadBalancer balancer;

	/**
	 * Create gauges of the given balancer's backends.
	 * @param balancer the balancer
	 */
	public OpenAiLbBackendStateMetrics(LoadBalancer balancer) {
		this.balancer = balancer;
	}

	private double share(Headroom headroom) {
		if (headroom == null || !headroom.isFresh(this.balancer.clock().millis()) || headroom.share() < 0) {
			return Double.NaN;
		}
		return headroom.share();
	}

	@Override
	public void bindTo(MeterRegistry registry) {
		for (Backend backend : this.balancer.backends()) {
			for (BackendState state : BackendState.values()) {
				Gauge.builder(STATE, backend, (b) -> (b.state() == state) ? 1 : 0)
					.description("1 when the backend is in this state, else 0")
					.tags("backend", backend.name(), "state", state.name())
					.register(registry);
			}
			Gauge.builder(HEADROOM, backend, (b) -> share(b.headroom()))
				.description("Share of quota (0 to 1) the backend last reported left; NaN when unknown or stale")
				.tags("backend", backend.name())
				.register(registry);
			for (Deployment deployment : backend.deployments()) {
				bindTo(registry, deployment);
			}
		}
	}

	private void bindTo(MeterRegistry registry, Deployment deployment) {
		String backend = deployment.backend().name();
		for (BackendState state : DEPLOYMENT_STATES) {
			Gauge.builder(DEPLOYMENT_STATE, deployment, (d) -> (d.state() == state) ? 1 : 0)
				.description("1 when the model's deployment on the backend is in this state, else 0")
				.tags("backend", backend, "deployment", deployment.model(), "state", state.name())
				.register(registry);
		}
		Gauge.builder(DEPLOYMENT_HEADROOM, deployment, (d) -> share(d.headroom()))
			.description("Share of quota (0 to 1) the deployment last reported left; NaN when unknown or stale")
			.tags("backend", backend, "deployment", deployment.model())
			.register(registry);
	}

}
