/**
 * beacon.js, the storefront script (kept under 3 KB gzipped; a test measures it).
 * Plain ES2017 so it runs in every current browser without a build step.
 *
 * - identity: anonymous id in a first-party cookie (`epr_uid`, 1 year), session id
 *   rotated after 30 minutes of inactivity;
 * - events get client-made ids (the edge dedups on them, so retries are safe), are
 *   batched and persisted in localStorage until the edge acknowledges them, and are
 *   sent with fetch keepalive, or sendBeacon when the page is being hidden;
 * - `data-epr-product-id` on the page -> product_view; `data-epr-add-to-cart` clicks
 *   -> add_to_cart; `data-epr-widget` placeholders are filled with the recommendations
 *   widget after pending events are delivered (so the widget reflects this page view);
 *   widgets in view -> rec_impression, clicks on their items -> rec_click;
 * - `window.epr.track(type, fields)` for anything else (purchase, search…).
 *
 * Configuration on the script tag: `data-endpoint` (default: the script's origin).
 */
export const BEACON_JS = String.raw`(function(w,d){"use strict";
if(w.epr)return;
var S=d.currentScript,E=((S&&S.getAttribute("data-endpoint"))||(S?new URL(S.src,location.href).origin:location.origin)).replace(/\/$/,""),
LS=w.localStorage,QK="epr_q",SK="epr_s",MAXQ=200,BATCH=20,IDLE=18e5,q=[],timer=0,busy=0,seen={};
function rid(){return w.crypto&&crypto.randomUUID?crypto.randomUUID().replace(/-/g,""):(Date.now().toString(36)+Math.random().toString(36).slice(2,12))}
function get(k){try{return LS.getItem(k)}catch(e){return null}}
function set(k,v){try{LS.setItem(k,v)}catch(e){}}
function uid(){var m=d.cookie.match(/(?:^|; )epr_uid=([^;]+)/),v=m?m[1]:"u_"+rid();
d.cookie="epr_uid="+v+"; Max-Age=31536000; Path=/; SameSite=Lax"+(location.protocol=="https:"?"; Secure":"");return v}
function sid(){var now=Date.now(),s=(get(SK)||"").split("."),id=s[0],last=+s[1]||0;if(!id||now-last>IDLE)id="s_"+rid();set(SK,id+"."+now);return id}
function load(){try{q=JSON.parse(get(QK)||"[]")}catch(e){q=[]}if(!Array.isArray(q))q=[]}
function save(){if(q.length>MAXQ)q=q.slice(-MAXQ);set(QK,JSON.stringify(q))}
function track(type,f){var e={event_id:"e_"+rid(),type:type,user_id:U,session_id:sid(),ts:Date.now(),context:{page_url:location.href.slice(0,2e3),referrer:d.referrer.slice(0,2e3)}};
for(var k in f)e[k]=f[k];load();q.push(e);save();if(q.length>=BATCH)flush();else if(!timer)timer=setTimeout(flush,1e3);return e.event_id}
function body(b){return JSON.stringify({events:b,sent_at:Date.now()})}
function drop(ids){load();q=q.filter(function(e){return ids.indexOf(e.event_id)<0});save()}
function flush(){clearTimeout(timer);timer=0;load();if(!q.length)return Promise.resolve();if(busy)return busy.then(flush);
var b=q.slice(0,BATCH),ids=b.map(function(e){return e.event_id});
return busy=fetch(E+"/v1/events",{method:"POST",body:body(b),keepalive:true,headers:{"Content-Type":"text/plain"},credentials:"omit"}).then(function(r){
busy=0;if(r.ok||(r.status>=400&&r.status<500&&r.status!=429)){drop(ids);if(q.length)return flush()}else retry()},function(){busy=0;retry()})}
var back=2e3;function retry(){if(!timer)timer=setTimeout(flush,back);back=Math.min(back*2,6e4)}
function beacon(){load();if(!q.length||!navigator.sendBeacon)return;var b=q.slice(0,BATCH);
if(navigator.sendBeacon(E+"/v1/events",new Blob([body(b)],{type:"text/plain"})))drop(b.map(function(e){return e.event_id}))}
function attr(el,n){return el.getAttribute("data-"+n)}
var io=w.IntersectionObserver&&new IntersectionObserver(function(es){es.forEach(function(x){var r=x.target,id=attr(r,"epr-rec-id");if(!x.isIntersecting||seen[id])return;seen[id]=1;io.unobserve(r);
var ids=[].map.call(r.querySelectorAll("li[data-epr-item-id]"),function(li){return attr(li,"epr-item-id")}).slice(0,100);if(ids.length)track("rec_impression",{rec_id:id,item_ids:ids})})},{threshold:.5});
function fill(el){var p={user_id:U,context:attr(el,"context")||"home",n:attr(el,"n")||"8",item_id:attr(el,"item-id"),title:attr(el,"title"),href:attr(el,"href")},s=[];
for(var k in p)if(p[k])s.push(k+"="+encodeURIComponent(p[k]));
return fetch(E+"/v1/widgets/recommendations?"+s.join("&"),{credentials:"omit"}).then(function(r){return r.ok?r.text():""}).then(function(h){if(!h)return;el.innerHTML=h;
var r=el.querySelector("[data-epr-rec-id]");if(r&&io)io.observe(r);el.dispatchEvent(new CustomEvent("epr:widget",{bubbles:true,detail:{rec_id:r&&attr(r,"epr-rec-id")}}))})}
function refresh(){return flush().then(function(){return Promise.all([].map.call(d.querySelectorAll("[data-epr-widget]"),fill))})}
var U=uid();
d.addEventListener("click",function(ev){var t=ev.target;if(!t.closest)return;var a=t.closest("[data-epr-add-to-cart]"),i=t.closest("[data-epr-item-id]"),r=i&&i.closest("[data-epr-rec-id]");
if(a)track("add_to_cart",{item_id:attr(a,"epr-add-to-cart")});if(r){track("rec_click",{rec_id:attr(r,"epr-rec-id"),item_id:attr(i,"epr-item-id")});beacon()}},true);
d.addEventListener("visibilitychange",function(){if(d.visibilityState=="hidden")beacon()});w.addEventListener("pagehide",beacon);
w.epr={uid:U,track:track,flush:flush,refresh:refresh};
function start(){var p=d.querySelector("[data-epr-product-id]");if(p){var f={item_id:attr(p,"epr-product-id")},c=attr(p,"epr-category"),pr=parseFloat(attr(p,"epr-price"));
if(c)f.category_id=c;if(pr>=0)f.price=pr;track("product_view",f)}refresh()}
d.readyState=="loading"?d.addEventListener("DOMContentLoaded",start):start()})(window,document);
`;
