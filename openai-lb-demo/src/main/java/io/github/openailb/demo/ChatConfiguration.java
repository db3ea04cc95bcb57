package io.github.openailb.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.openailb.autoconfigure.OpenAiLoadBalanced;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.reactive.function.client.WebClient;

/**
 * The one place that decides how the demo talks to the chat model.
 */
@Configuration(proxyBeanMethods = false)
class ChatConfiguration {

	@Bean
	Chat chat(@OpenAiLoadBalanced WebClient client,
			@Value("${spring.ai.azure.openai.chat.options.deployment-name:gpt-4o-mini}") String deployment,
			ObjectMapper json) {
		return new WebClientChat(client, deployment, json);
	}

}
