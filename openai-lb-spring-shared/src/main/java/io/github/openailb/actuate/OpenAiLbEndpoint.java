package io.github.openailb.actuate;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import io.github.openailb.core.Backend;
import io.github.openailb.core.LoadBalancer;

import org.springframework.boot.actuate.endpoint.Access;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;

/**
 * Actuator endpoint {@code openailb}: lists the backends with their state (the details the
 * {@code openAiLb} health component shows, no secrets) and lets an operator take one out of
 * rotation, put it back, or forget its past trouble, at runtime. Read-only unless
 * {@code management.endpoint.openailb.access=unrestricted}; writes belong behind the
 * application's actuator security. With {@code openai.lb.state.store=redis} every write reaches
 * the other instances.
 * <ul>
 * <li>{@code GET /actuator/openailb}: every backend;</li>
 * <li>{@code GET /actuator/openailb/{name}}: one backend, 404 if there is none of that name;</li>
 * <li>{@code POST /actuator/openailb/{name}} with {@code {"action":"disable|enable|reset"}}: see
 * {@link LoadBalancer#disable}, {@link LoadBalancer#enable} and {@link LoadBalancer#reset}.
 * Answers the backend's details after the change; 404 for an unknown backend, 400 for an
 * unknown action, 409 when {@code enable} cannot turn on a backend disabled in configuration.</li>
 * </ul>
 */
@Endpoint(id = "openailb", defaultAccess = Access.READ_ONLY)
public class OpenAiLbEndpoint {

	private final LoadBalancer balancer;

	/**
	 * Create the endpoint of the given balancer.
	 * @param balancer the balancer
	 */
	public OpenAiLbEndpoint(LoadBalancer balancer) {
		this.balancer = balancer;
	}

	/**
	 * Every backend, by name, with its state and counts.
	 * @return {@code backends}: each backend's details by name
	 */
	@ReadOperation
	public Map<String, Object> backends() {
		return HealthDetails.of(this.balancer);
	}

	/**
	 * One backend's state and counts.
	 * @param name the backend's name
	 * @return the backend's details, or {@code null} (404) when there is no such backend
	 */
	@ReadOperation
	public Map<String, Object> backend(@Selector String name) {
		Backend backend = this.balancer.backend(name);
		return (backend != null) ? describe(backend) : null;
	}

	/**
	 * Apply an operator's action to one backend.
	 * @param name the backend's name
	 * @param action {@code disable}, {@code enable} or {@code reset}
	 * @return the backend's details after the action, or an error
	 */
	@WriteOperation
	public WebEndpointResponse<Map<String, Object>> control(@Selector String name, String action) {
		Backend backend = this.balancer.backend(name);
		if (backend == null) {
			return error(WebEndpointResponse.STATUS_NOT_FOUND, "no backend is named '" + name + "'");
		}
		switch (action.strip().toLowerCase(Locale.ROOT)) {
			case "disable" -> this.balancer.disable(name);
			case "enable" -> {
				this.balancer.enable(name);
				if (!backend.config().enabled()) {
					return error(409, "backend '" + name + "' is disabled in configuration (openai.lb.backends[].enabled="
							+ "false); enable only lifts a runtime disable: change the configuration to use it");
				}
			}
			case "reset" -> this.balancer.reset(name);
			default -> {
				return error(WebEndpointResponse.STATUS_BAD_REQUEST,
						"unknown action '" + printable(action) + "'; use one of: disable, enable, reset");
			}
		}
		return new WebEndpointResponse<>(describe(backend));
	}

	private Map<String, Object> describe(Backend backend) {
		Map<String, Object> details = new LinkedHashMap<>();
		details.put("name", backend.name());
		details.putAll(HealthDetails.of(backend, this.balancer));
		return details;
	}

	private static WebEndpointResponse<Map<String, Object>> error(int status, String message) {
		return new WebEndpointResponse<>(Map.of("error", message), status);
	}

	/** The caller's text echoed back short and on one line. */
	private static String printable(String text) {
		String line = text.replaceAll("\\p{Cntrl}", " ");
		return (line.length() > 40) ? line.substring(0, 40) + "..." : line;
	}

}
