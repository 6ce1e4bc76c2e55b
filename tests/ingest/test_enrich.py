"""Customer lookup in the CRM (the emulator's), cached, and never holding ingest up."""

import httpx

from complaintflow.devkit.emulator import EmulatorState, create_app
from complaintflow.devkit.serve import serving
from complaintflow.ingest.enrich import CustomerLookup
from complaintflow.rules.mention import Author, Customer, Mention


async def test_known_customers_are_found_and_cached() -> None:
    state = EmulatorState(token="crm", brand_x_id="1", brand_page_id="2")
    state.customers["x:777"] = {"tier": "gold", "id": "C-42"}
    async with serving(create_app(state)) as url:
        lookup = CustomerLookup(
            f"{url}/crm/customers", token="crm", client=httpx.AsyncClient(timeout=2.0)
        )
        gold = Mention(id="1", text="hi", author=Author(id="777", handle="jo"))
        stranger = Mention(id="2", text="hi", author=Author(id="999", handle="sam"))
        assert await lookup.find(gold) == Customer(known=True, tier="gold", id="C-42")
        assert await lookup.find(stranger) == Customer()
        assert await lookup.find(gold) == Customer(known=True, tier="gold", id="C-42")
        assert state.calls.count("crm.lookup") == 2, "the second look-up came from the cache"
        await lookup.client.aclose()


async def test_a_crm_that_is_down_makes_the_author_unknown() -> None:
    async with serving(
        create_app(EmulatorState(token="t", brand_x_id="1", brand_page_id="2"))
    ) as url:
        pass  # the server is gone now
    lookup = CustomerLookup(f"{url}/crm/customers", client=httpx.AsyncClient(timeout=1.0))
    assert await lookup.find(Mention(id="1", text="x", author=Author(id="7"))) == Customer()
    await lookup.client.aclose()
