package io.github.openailb.actuate;

import io.github.openailb.core.Backend;
import io.github.openailb.core.Headroom;
import io.github.openailb.core.BackendState;
import io.github.openailb.core.LoadBalancer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;

/**
 * Gauges of each backend's state: {@value #STATE} with tags {@code backend} and {@code state} is 1
 * for the state the backend is in and 0 for the others, so dashboards can show or alert on it.
 * The states are read only when the registry is scraped.
 */
public class OpenAiLbBackendStateMetrics implements MeterBinder {

	/** Name of the backend state gauge. */
	public static final String STATE = "openai.lb.backend.state";

	/** Name of the gauge of the quota share a backend last reported left. */
	public static final String HEADROOM = "openai.lb.backend.headroom";

	private final LoadBalancer balancer;

	/**
	 * Create gauges of the given balancer's backends.
	 * @param balancer the balancer
	 */
	public OpenAiLbBackendStateMetrics(LoadBalancer balancer) {
		this.balancer = balancer;
	}

	private double headroomShare(Backend backend) {
		Headroom headroom = backend.headroom();
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
			Gauge.builder(HEADROOM, backend, this::headroomShare)
				.description("Share of quota (0 to 1) the backend last reported left; NaN when unknown or stale")
				.tags("backend", backend.name())
				.register(registry);
		}
	}

}
