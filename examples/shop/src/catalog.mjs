// The shop's catalog. Prices are integer minor units (bigint) of the product's currency: cents
// for USD, yen for JPY (a zero-decimal currency). The server's catalog is the only source of
// truth for prices; whatever the browser sends is checked against it.

/** Sellers, with how many days they need to deliver (the delivery estimate uses it). */
export const SELLERS = new Map(
  [
    { id: "northwind", name: "Northwind Coffee", city: "Portland", deliveryDays: 3 },
    { id: "pinecone", name: "Pinecone Books", city: "Boston", deliveryDays: 5 },
    { id: "kumo", name: "Kumo Ceramics", city: "Kyoto", deliveryDays: 7 },
    { id: "tidal", name: "Tidal Textiles", city: "Osaka", deliveryDays: 6 },
  ].map((s) => [s.id, s]),
);

export const PRODUCTS = new Map(
  [
    {
      id: "beans",
      sellerId: "northwind",
      name: "Ethiopia Guji coffee beans, 340 g",
      currency: "USD",
      price: 1800n,
      color: "#6f4e37",
    },
    {
      id: "kettle",
      sellerId: "northwind",
      name: "Gooseneck pour-over kettle",
      currency: "USD",
      price: 4250n,
      color: "#2f6f73",
    },
    {
      id: "notebook",
      sellerId: "pinecone",
      name: "Dot-grid field notebook",
      currency: "USD",
      price: 625n,
      color: "#3d5a80",
    },
    {
      id: "cookbook",
      sellerId: "pinecone",
      name: "The Slow Breakfast cookbook",
      currency: "USD",
      price: 2999n,
      color: "#7a8b3a",
    },
    {
      id: "bowl",
      sellerId: "kumo",
      name: "Hand-thrown matcha bowl",
      currency: "JPY",
      price: 3200n,
      color: "#4f7c4a",
    },
    {
      id: "cups",
      sellerId: "kumo",
      name: "Set of two tea cups",
      currency: "JPY",
      price: 4800n,
      color: "#9c6b3c",
    },
    {
      id: "tenugui",
      sellerId: "tidal",
      name: "Indigo tenugui towel",
      currency: "JPY",
      price: 1200n,
      color: "#2b4c7e",
    },
  ].map((p) => [p.id, p]),
);

/**
 * When the buyer can expect the parcels: the slowest seller's delivery time after the order.
 * settlekit stores it with the payment (`estimateDelivery`): the email and the status page agree.
 */
export function estimateDelivery(orderedAt, sellerIds) {
  const days = Math.max(0, ...sellerIds.map((id) => SELLERS.get(id)?.deliveryDays ?? 0));
  return new Date(new Date(orderedAt).getTime() + days * 86_400_000);
}
