"""The hello-world producer with publisher confirms from "RabbitMQ in Action", for pika 1.x.

Publishes each argument as a text/plain message to the durable direct exchange
'hello-exchange' with the routing key 'hola', on a channel in confirm mode; with pika 1.x's
BlockingChannel a publish returns only once the broker acked it (a nack or, with mandatory,
a return raises). Prints "CONFIRMED <body>" per message.
Usage: pika_hello_producer.py HOST PORT BODY...
"""
import sys

import pika


def main():
    host, port, bodies = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    credentials = pika.PlainCredentials("guest", "guest")
    params = pika.ConnectionParameters(host=host, port=port, credentials=credentials)
    conn_broker = pika.BlockingConnection(params)
    channel = conn_broker.channel()
    channel.confirm_delivery()
    channel.exchange_declare(exchange="hello-exchange", exchange_type="direct",
                             passive=False, durable=True, auto_delete=False)
    msg_props = pika.BasicProperties(content_type="text/plain")
    for body in bodies:
        channel.basic_publish(exchange="hello-exchange", routing_key="hola",
                              body=body.encode("utf-8"), properties=msg_props, mandatory=True)
        print("CONFIRMED " + body, flush=True)
    conn_broker.close()


if __name__ == "__main__":
    main()
