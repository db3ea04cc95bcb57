package io.github.openailb.demo;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.github.openailb.core.Backend;
import io.github.openailb.core.Deployment;
import io.github.openailb.core.LoadBalancer;
import io.github.openailb.core.Step;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * The live view the page polls, and the page's burst button.
 */
@RestController
class BackendsController {

	private final LoadBalancer balancer;

	private final BalancerActivity activity;

	private final Burst burst;

	BackendsController(LoadBalancer balancer, BalancerActivity activity, Burst burst) {
		this.balancer = balancer;
		this.activity = activity;
		this.burst = burst;
	}

	@GetMapping("/api/backends")
	Map<String, Object> backends() {
		long now = System.currentTimeMillis();
		List<Map<String, Object>> backends = this.balancer.backends().stream().map((backend) -> describe(backend, now)).toList();
		Map<String, Object> requests = new LinkedHashMap<>();
		for (Step.Ending ending : Step.Ending.values()) {
			requests.put(ending.name(), this.activity.ended(ending));
		}
		return Map.of("now", now, "backends", backends, "requests", requests);
	}

	@PostMapping("/api/burst")
	Burst.Report burst(@RequestParam(defaultValue = "60") int count,
			@RequestParam(defaultValue = "60") int concurrency, @RequestParam(defaultValue = "0") int embeddings) {
		return this.burst.fire(Math.min(count, 1000), Math.min(concurrency, 200), Math.max(0, Math.min(embeddings, 100)));
	}

	private Map<String, Object> describe(Backend backend, long now) {
		Backend.Counts counts = backend.counts();
		Instant until = backend.coolingDownUntil();
		Map<String, Object> view = new LinkedHashMap<>();
		view.put("name", backend.name());
		view.put("host", backend.config().host());
		view.put("priority", backend.config().priority());
		view.put("weight", backend.config().weight());
		view.put("state", backend.state().name());
		view.put("coolingDownMillis", (until != null) ? Math.max(0, until.toEpochMilli() - now) : 0);
		view.put("requests", counts.attempts());
		view.put("successes", counts.successes());
		view.put("throttled", counts.throttled());
		view.put("failures", counts.failures());
		view.put("failovers", this.activity.failovers(backend.name()));
		view.put("deployments", backend.deployments().stream().map((deployment) -> describe(deployment, now)).toList());
		return view;
	}

	/** A deployment's own state: a 429 cools it down, not its backend. */
	private Map<String, Object> describe(Deployment deployment, long now) {
		Instant until = deployment.coolingDownUntil();
		String backend = deployment.backend().name();
		Map<String, Object> view = new LinkedHashMap<>();
		view.put("model", deployment.model());
		view.put("name", deployment.name());
		view.put("state", deployment.state().name());
		view.put("coolingDownMillis", (until != null) ? Math.max(0, until.toEpochMilli() - now) : 0);
		view.put("remainingRequests", (deployment.headroom() != null) ? deployment.headroom().remainingRequests() : -1);
		view.put("successes", this.activity.answered(backend, deployment.model()));
		view.put("throttled", this.activity.throttled(backend, deployment.model()));
		return view;
	}

}
