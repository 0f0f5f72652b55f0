"""Portfolio: turns a SignalGenerated into a RebalancePlanned.

The signal carries target weights and the portfolio's value; the plan lists the trades that move
the current positions to those weights, and their total value (which the high-value rule reads).
"""
import alchemiser_events as ev


def plan_trades(detail):
    value = float(detail.get("portfolio_value", 0))
    current = detail.get("current_weights", {})
    trades = []
    for symbol, target in sorted(detail.get("target_weights", {}).items()):
        delta = round((float(target) - float(current.get(symbol, 0))) * value, 2)
        if delta:
            trades.append({"symbol": symbol, "side": "BUY" if delta > 0 else "SELL",
                           "value": abs(delta)})
    return trades


def eventbridge_handler(event, context):
    if event.get("detail-type") != "SignalGenerated":
        return {"ignored": event.get("detail-type")}
    detail = event["detail"]
    trades = plan_trades(detail)
    correlation = ev.correlation_of(event)
    plan = {
        "plan_id": "plan-%s" % detail.get("signal_id", event["id"]),
        "signal_id": detail.get("signal_id"),
        "trades": trades,
        "total_trade_value": round(sum(t["value"] for t in trades), 2),
    }
    if detail.get("fail_execution"):
        plan["fail_execution"] = True  # carried on so a test can make Execution raise
    event_id = ev.publish("portfolio", "RebalancePlanned", plan, correlation, event["id"])
    print("planned %s: %d trades, total %.2f -> %s" % (plan["plan_id"], len(trades),
                                                      plan["total_trade_value"], event_id))
    return {"plan_id": plan["plan_id"], "event_id": event_id}
