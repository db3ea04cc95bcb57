package io.github.openailb.demo.boot4;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.github.openailb.core.Backend;
import io.github.openailb.core.Deployment;
import io.github.openailb.core.LoadBalancer;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code GET /api/backends}: each backend's state and, under it, each deployment's own state (a
 * 429 cools the deployment down, not its instance).
 */
@RestController
class BackendsController {

	private final LoadBalancer balancer;

	BackendsController(LoadBalancer balancer) {
		this.balancer = balancer;
	}

	@GetMapping("/api/backends")
	List<Map<String, Object>> backends() {
		long now = System.currentTimeMillis();
		return this.balancer.backends().stream().map((backend) -> describe(backend, now)).toList();
	}

	private static Map<String, Object> describe(Backend backend, long now) {
		Map<String, Object> view = new LinkedHashMap<>();
		view.put("name", backend.name());
		view.put("priority", backend.config().priority());
		view.put("state", backend.state().name());
		view.put("deployments", backend.deployments().stream().map((deployment) -> describe(deployment, now)).toList());
		return view;
	}

	private static Map<String, Object> describe(Deployment deployment, long now) {
		Instant until = deployment.coolingDownUntil();
		Map<String, Object> view = new LinkedHashMap<>();
		view.put("model", deployment.model());
		view.put("name", deployment.name());
		view.put("state", deployment.state().name());
		view.put("coolingDownMillis", (until != null) ? Math.max(0, until.toEpochMilli() - now) : 0);
		view.put("remainingRequests", (deployment.headroom() != null) ? deployment.headroom().remainingRequests() : -1);
		return view;
	}

}
