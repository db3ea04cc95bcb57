package io.github.openailb.demo;

import org.springframework.ai.chat.client.ChatClient;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The one place that decides how the demo talks to the chat model: Spring AI's
 * {@link ChatClient} over the Azure OpenAI chat model the starter balances.
 */
@Configuration(proxyBeanMethods = false)
class ChatConfiguration {

	@Bean
	Chat chat(ChatClient.Builder chatClient) {
		return new SpringAiChat(chatClient.build());
	}

}
