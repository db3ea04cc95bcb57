package io.github.openailb.autoconfigure;

import reactor.netty.http.client.HttpClient;

/**
 * Customizes the Reactor Netty client that sends attempts to backends (proxy, TLS, wiretap).
 * Applied in order.
 */
@FunctionalInterface
public interface OpenAiLbHttpClientCustomizer {

	/**
	 * Customize the client.
	 * @param client the client
	 * @return the customized client
	 */
	HttpClient customize(HttpClient client);

}
