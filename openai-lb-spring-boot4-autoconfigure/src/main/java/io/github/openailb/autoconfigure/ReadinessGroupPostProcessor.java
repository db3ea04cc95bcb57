package io.github.openailb.autoconfigure;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import org.springframework.boot.actuate.endpoint.SecurityContext;
import org.springframework.boot.health.actuate.endpoint.AdditionalHealthEndpointPath;
import org.springframework.boot.health.actuate.endpoint.HealthEndpointGroup;
import org.springframework.boot.health.actuate.endpoint.HealthEndpointGroups;
import org.springframework.boot.health.actuate.endpoint.HealthEndpointGroupsPostProcessor;
import org.springframework.boot.health.actuate.endpoint.HttpCodeStatusMapper;
import org.springframework.boot.health.actuate.endpoint.StatusAggregator;
import org.springframework.core.Ordered;
import org.springframework.core.env.Environment;

/**
 * Puts {@code openAiLb} into the {@code readiness} probe group beside {@code readinessState}, where
 * Spring Boot creates the probe groups and the user configured no {@code readiness} group. Runs
 * before Boot's own probe post-processor, which then keeps this group (adding {@code /readyz}
 * when asked) instead of creating one with {@code readinessState} alone. Liveness stays Boot's
 * ({@code livenessState} only): neither the balancer nor Redis belongs there, since a restart
 * cures neither.
 */
class ReadinessGroupPostProcessor implements HealthEndpointGroupsPostProcessor, Ordered {

	static final String READINESS = "readiness";

	private static final Set<String> MEMBERS = Set.of("readinessState", "openAiLb");

	private final Environment environment;

	ReadinessGroupPostProcessor(Environment environment) {
		this.environment = environment;
	}

	@Override
	public HealthEndpointGroups postProcessHealthEndpointGroups(HealthEndpointGroups groups) {
		if (!probesEnabled() || groups.get(READINESS) != null) {
			return groups;
		}
		Map<String, HealthEndpointGroup> all = new LinkedHashMap<>();
		groups.getNames().forEach((name) -> all.put(name, groups.get(name)));
		all.put(READINESS, new ReadinessGroup());
		return HealthEndpointGroups.of(groups.getPrimary(), all);
	}

	/** As Boot 4's {@code AvailabilityProbesAutoConfiguration} decides: on unless switched off. */
	private boolean probesEnabled() {
		return this.environment.getProperty("management.endpoint.health.probes.enabled", Boolean.class, true);
	}

	@Override
	public int getOrder() {
		return Ordered.HIGHEST_PRECEDENCE;
	}

	/** Like Boot's probe group (no components, no details, default status rules), one member more. */
	private static final class ReadinessGroup implements HealthEndpointGroup {

		@Override
		public boolean isMember(String name) {
			return MEMBERS.contains(name);
		}

		@Override
		public boolean showComponents(SecurityContext securityContext) {
			return false;
		}

		@Override
		public boolean showDetails(SecurityContext securityContext) {
			return false;
		}

		@Override
		public StatusAggregator getStatusAggregator() {
			return StatusAggregator.getDefault();
		}

		@Override
		public HttpCodeStatusMapper getHttpCodeStatusMapper() {
			return HttpCodeStatusMapper.DEFAULT;
		}

		@Override
		public AdditionalHealthEndpointPath getAdditionalPath() {
			return null;
		}

	}

}
