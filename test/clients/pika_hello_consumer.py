"""The hello-world consumer from "RabbitMQ in Action", for pika 1.x.

Declares the durable direct exchange 'hello-exchange' and the queue 'hello-queue', binds them
with the key 'hola', consumes and acks. Prints CONSUMING once the broker confirmed the consumer
(basic.consume-ok), then one line "MSG <body>" per message, and stops at the body "quit".
Usage: pika_hello_consumer.py HOST PORT [TIMEOUT_S]
"""
import sys

import pika


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    timeout_s = float(sys.argv[3]) if len(sys.argv) > 3 else 15.0
    credentials = pika.PlainCredentials("guest", "guest")
    params = pika.ConnectionParameters(host=host, port=port, credentials=credentials)
    conn_broker = pika.BlockingConnection(params)
    channel = conn_broker.channel()
    channel.exchange_declare(exchange="hello-exchange", exchange_type="direct",
                             passive=False, durable=True, auto_delete=False)
    channel.queue_declare(queue="hello-queue")
    channel.queue_bind(queue="hello-queue", exchange="hello-exchange", routing_key="hola")

    timed_out = []

    def msg_consumer(channel, method, header, body):
        channel.basic_ack(delivery_tag=method.delivery_tag)
        text = body.decode("utf-8")
        if text == "quit":
            channel.basic_cancel(consumer_tag="hello-consumer")
            channel.stop_consuming()
        else:
            print("MSG " + text, flush=True)

    def give_up():
        timed_out.append(True)
        channel.stop_consuming()

    # BlockingChannel.basic_consume returns after the broker's basic.consume-ok.
    channel.basic_consume(queue="hello-queue", on_message_callback=msg_consumer,
                          consumer_tag="hello-consumer")
    print("CONSUMING", flush=True)
    conn_broker.call_later(timeout_s, give_up)
    channel.start_consuming()
    conn_broker.close()
    if timed_out:
        print("TIMEOUT: no 'quit' within %s s" % timeout_s, flush=True)
        sys.exit(2)
    print("DONE", flush=True)


if __name__ == "__main__":
    main()
